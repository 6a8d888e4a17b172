import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { deleteIntakeStreams } from './intake-stream.js';
import { testEnv } from './test-env.js';

const run = promisify(execFile);

/** A plain PostgreSQL client for assertions on the rows the orchestrator wrote. */
export class TestDatabase {
  private constructor(readonly client: pg.Client) {}

  static async connect(): Promise<TestDatabase> {
    const client = new pg.Client({ connectionString: testEnv().databaseUrl });
    await client.connect();
    return new TestDatabase(client);
  }

  /**
   * Drops every table and applies the migrations with the same command an operator runs, empties
   * the test Redis (the agent registry), so that no test sees another's agents, and deletes the
   * orchestrator's JetStream streams, so that no test runs another's requests.
   */
  async reset(): Promise<void> {
    await this.client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
    await run('npm', ['run', '--silent', 'migration:run'], { env: process.env });
    const redis = new Redis(testEnv().redisUrl);
    try {
      await redis.flushdb();
    } finally {
      redis.disconnect();
    }
    await deleteIntakeStreams();
  }

  async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.client.query<T>(sql, params)).rows;
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
