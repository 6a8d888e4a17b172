import type { NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import pg from 'pg';
import { GRAPHILE_SCHEMA } from './graphile-bench.js';
import { PGBOSS_SCHEMA } from './pgboss-bench.js';
import { spread, type Spread } from './stats.js';

/** Empties what every side wrote: the orchestrator's tasks, the job queues' schemas, both Redis servers. */
export async function resetState(databaseUrl: string, redisUrls: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('TRUNCATE tasks');
  await client.query(`DROP SCHEMA IF EXISTS ${PGBOSS_SCHEMA} CASCADE`);
  await client.query(`DROP SCHEMA IF EXISTS ${GRAPHILE_SCHEMA} CASCADE`);
  await client.end();
  for (const url of redisUrls) {
    const redis = new Redis(url);
    await redis.flushdb();
    redis.disconnect();
  }
}

/** The durability settings as the servers report them (not as the bench meant to set them). */
export async function durabilitySettings(databaseUrl: string, redis: { label: string; url: string }[]): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const show = async (name: string): Promise<string> => (await client.query<Record<string, string>>(`SHOW ${name}`)).rows[0]?.[name] ?? '?';
  const postgres = `PostgreSQL ${await show('server_version')}: fsync=${await show('fsync')}, synchronous_commit=${await show('synchronous_commit')}`;
  await client.end();
  const redisParts: string[] = [];
  for (const { label, url } of redis) {
    const connection = new Redis(url);
    const config = async (name: string): Promise<string> => ((await connection.config('GET', name)) as string[])[1] ?? '?';
    redisParts.push(`${label}: appendonly=${await config('appendonly')}, appendfsync=${await config('appendfsync')}, save="${await config('save')}"`);
    connection.disconnect();
  }
  return [postgres, ...redisParts].join('; ');
}

/** NATS request-reply round trips, one at a time, to a process that answers at once (ms). */
export async function natsRoundTrip(nc: NatsConnection, subject: string, runs: number): Promise<Spread> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await nc.request(subject, 'ping', { timeout: 5_000 });
    times.push(performance.now() - started);
  }
  return spread(times);
}
