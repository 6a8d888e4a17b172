import 'reflect-metadata';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../../apps/orchestrator/src/persistence/data-source-options.js';
import { testEnv } from '../../support/test-env.js';

/**
 * Where the integration tier keeps its data: a database of its own beside the end-to-end one
 * (`<name>_int<worker>_test`, so that mutation testing's workers never share one), migrated once
 * per process by the same migrations the service runs, and emptied between tests; a Redis
 * database of its own as well.
 */
export interface IntegrationEnv {
  databaseUrl: string;
  redisUrl: string;
}

const worker = Number(process.env['STRYKER_MUTATOR_WORKER'] ?? '0') || 0;
let prepared: Promise<IntegrationEnv> | undefined;

/** Creates (once) and migrates (once per process) this worker's database; returns where it is. */
export function integrationEnv(): Promise<IntegrationEnv> {
  prepared ??= prepare();
  return prepared;
}

async function prepare(): Promise<IntegrationEnv> {
  const env = testEnv();
  const base = new URL(env.databaseUrl);
  const name = base.pathname.replace(/^\//, '').replace(/_test$/, `_int${worker}_test`);
  const admin = new pg.Client({ connectionString: env.databaseUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rows.length === 0) {
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`).catch((error: unknown) => {
        // Another process created it in the meantime.
        if ((error as { code?: string }).code !== '42P04') throw error;
      });
    }
  } finally {
    await admin.end();
  }
  const url = new URL(env.databaseUrl);
  url.pathname = `/${name}`;
  const migrator = new DataSource(dataSourceOptions(url.toString(), 1));
  await migrator.initialize();
  try {
    await migrator.runMigrations({ transaction: 'each' });
  } finally {
    await migrator.destroy();
  }
  const redis = new URL(env.redisUrl);
  redis.pathname = `/${1 + worker}`;
  return { databaseUrl: url.toString(), redisUrl: redis.toString() };
}

/**
 * Empties the tables of workflows (their rows, history, unsent sub-tasks, early cancels, signals)
 * and this worker's Redis database, on connections of the caller's: each test starts from nothing.
 * The shared secrets stay: the harness reads them once, at its start.
 */
export async function emptyAll(db: pg.Client, redis: Redis): Promise<void> {
  await db.query('TRUNCATE tasks, task_events, unsent_dispatches, early_cancels, workflow_signals RESTART IDENTITY');
  await redis.flushdb();
}
