/**
 * npm run bench: the orchestrator against three job queues on the five-step create_blog_post shape,
 * in one run on the same machine: BullMQ flows on a Redis that does not write to disk, the same on a
 * Redis with an append-only file fsynced every second, and a pg-boss chain on the orchestrator's
 * PostgreSQL. BENCH_SMOKE=1 runs a few seconds of it.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import type { ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { BullmqBench } from './bullmq-bench.js';
import { NoopAgents } from './noop-agents.js';
import { orchestratorInFlight, orchestratorPerStep, orchestratorThroughput, OrchestratorProcess } from './orchestrator-bench.js';
import { PGBOSS_SCHEMA, PgBossBench } from './pgboss-bench.js';
import { env } from './env.js';
import { mean, STEPS, type ChainBench, type PerStep, type Throughput } from './stats.js';

const smoke = process.env['BENCH_SMOKE'] === '1';
const sizes = smoke
  ? { throughput: 20, perStep: 10, inFlight: 200, rounds: 1 }
  : { throughput: 2_000, perStep: 200, inFlight: 10_000, rounds: 2 };
// BENCH_ONLY=throughput or BENCH_ONLY=inflight runs only that part (to profile it).
const only = process.env['BENCH_ONLY'];

const natsUrl = env('NATS_URL');
const databaseUrl = env('DATABASE_URL');
const redisUrl = env('REDIS_URL');
// A second Redis, with appendonly yes and appendfsync everysec (scripts/bench.sh starts it).
const redisAofUrl = env('REDIS_AOF_URL');
const port = Number(process.env['BENCH_PORT'] ?? '3900');
const database = new URL(databaseUrl).pathname.slice(1);
if (!/_(bench|test)$/.test(database)) throw new Error(`refusing to wipe database "${database}": its name must end in _bench or _test`);

async function resetState(): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('TRUNCATE tasks');
  await client.query(`DROP SCHEMA IF EXISTS ${PGBOSS_SCHEMA} CASCADE`);
  await client.end();
  for (const url of [redisUrl, redisAofUrl]) {
    const redis = new Redis(url);
    await redis.flushdb();
    redis.disconnect();
  }
}

function bullmqConnection(url: string): ConnectionOptions {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null };
}

async function waitForAgents(orchestrator: OrchestratorProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const body = (await (await fetch(`${orchestrator.baseUrl}/agents`)).json()) as { items: unknown[] };
    if (body.items.length === 5) return;
    await sleep(100);
  }
  throw new Error('the no-op agents did not register');
}

const fmt = (n: number, digits = 2): string => n.toFixed(digits);

/** One column of the table: `short` names it in the ratio columns. */
interface Side {
  label: string;
  short: string;
  bench: ChainBench;
  throughput: Throughput[];
  perStep: PerStep[];
}

function side(label: string, short: string, bench: ChainBench): Side {
  return { label, short, bench, throughput: [], perStep: [] };
}

/** The table's rows for the measures every side has: its figure, then ours over each other's. */
function comparedRows(sides: readonly Side[]): string[][] {
  const [ours, ...others] = sides;
  const row = (measure: string, value: (side: Side) => number, digits: number): string[] => [
    measure,
    ...sides.map((s) => fmt(value(s), digits)),
    ...others.map((other) => fmt(value(ours) / value(other))),
  ];
  const workflowsPerSecond = (s: Side): number => mean(s.throughput.map((t) => t.workflowsPerSecond));
  return [
    row('throughput, workflows/s', workflowsPerSecond, 0),
    row('throughput, steps/s', (s) => workflowsPerSecond(s) * STEPS, 0),
    row('per-step overhead p50, ms', (s) => mean(s.perStep.map((p) => p.p50)), 2),
    row('per-step overhead p99, ms', (s) => mean(s.perStep.map((p) => p.p99)), 2),
  ];
}

async function main(): Promise<void> {
  await resetState();
  const client = await connect({ servers: natsUrl, name: 'bench-client' });
  const agentsConnection = await connect({ servers: natsUrl, name: 'bench-agents' });
  const bullmq = new BullmqBench(bullmqConnection(redisUrl));
  const bullmqAof = new BullmqBench(bullmqConnection(redisAofUrl));
  const pgBoss = new PgBossBench(databaseUrl);
  await Promise.all([bullmq.ready(), bullmqAof.ready(), pgBoss.ready()]);

  let orchestrator = await OrchestratorProcess.start(port);
  let agents = new NoopAgents(agentsConnection);
  await agents.start();
  await waitForAgents(orchestrator);

  const ours: ChainBench = {
    throughput: (count, run) => orchestratorThroughput(client, count, run),
    perStep: (runs, run) => orchestratorPerStep(client, runs, run),
  };
  const sides = [
    side('orchestrator (durable, PostgreSQL)', 'ours', ours),
    side('BullMQ FlowProducer (Redis, no persistence)', 'BullMQ', bullmq),
    side('BullMQ FlowProducer (Redis AOF, fsync every second)', 'BullMQ AOF', bullmqAof),
    side('pg-boss chain (durable, PostgreSQL)', 'pg-boss', pgBoss),
  ];

  console.log('warming up');
  for (const s of sides) await s.bench.throughput(50, 'warm');

  for (let round = 1; round <= (only === 'inflight' ? 0 : sizes.rounds); round++) {
    console.log(`round ${round}: throughput (${sizes.throughput} workflows at once)`);
    for (const s of sides) {
      const result = await s.bench.throughput(sizes.throughput, `t${round}`);
      console.log(`  ${s.short}: ${fmt(result.workflowsPerSecond, 0)} workflows/s`);
      s.throughput.push(result);
    }
    if (only === 'throughput') continue;
    console.log(`round ${round}: per-step overhead (${sizes.perStep} workflows one at a time)`);
    for (const s of sides) {
      const result = await s.bench.perStep(sizes.perStep, `p${round}`);
      console.log(`  ${s.short}: p50 ${fmt(result.p50)} ms, p99 ${fmt(result.p99)} ms`);
      s.perStep.push(result);
    }
  }
  await agents.stop();
  await orchestrator.stop();
  await Promise.all([bullmq.close(), bullmqAof.close(), pgBoss.close()]);

  console.log(`in-flight scale: ${sizes.inFlight} workflows against agents that hold every sub-task`);
  await resetState();
  orchestrator = await OrchestratorProcess.start(port);
  agents = new NoopAgents(agentsConnection, true);
  await agents.start();
  await waitForAgents(orchestrator);
  const inFlight = await orchestratorInFlight(client, orchestrator, sizes.inFlight, () => agents.heldCount, 'f');
  await orchestrator.stop();
  await agents.stop();
  await client.close();
  await agentsConnection.close();
  await resetState();

  const theirs = sides.slice(1);
  const dashes = theirs.map(() => '-');
  const rows = [
    ...comparedRows(sides),
    [`${inFlight.inFlight} workflows in flight: peak RSS, MB`, fmt(inFlight.peakRssMb, 0), ...dashes, ...dashes],
    [`${inFlight.inFlight} workflows in flight: time to dispatch all, s`, fmt(inFlight.secondsToAccept, 1), ...dashes, ...dashes],
  ];
  const table = [
    `| measure | ${sides.map((s) => s.label).join(' | ')} | ${theirs.map((s) => `ours / ${s.short}`).join(' | ')} |`,
    `| --- |${' ---: |'.repeat(sides.length * 2 - 1)}`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
  const header = `${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), Node ${process.version}; ` +
    `${sizes.throughput} workflows at once, ${sizes.perStep} one at a time, ${sizes.rounds} rounds alternating (means shown), ` +
    `five steps per workflow, no-op agents and workers; PostgreSQL, shared by the orchestrator and pg-boss, runs with fsync on, ` +
    `and the durable Redis fsyncs its append-only file every second.`;
  console.log(`\n${header}\n\n${table}\n`);
  if (!smoke && !only) {
    const file = join(new URL('..', import.meta.url).pathname, 'RESULTS.md');
    writeFileSync(file, `# Benchmark results\n\n${header}\n\nReproduce: \`npm run bench\`.\n\n${table}\n`);
    console.log(`written to ${file}`);
  }
}

await main();
