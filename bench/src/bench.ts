/**
 * npm run bench: the orchestrator against BullMQ flows on the five-step create_blog_post shape,
 * in one run on the same machine and the same Redis. BENCH_SMOKE=1 runs a few seconds of it.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import pg from 'pg';
import { BullmqBench } from './bullmq-bench.js';
import { NoopAgents } from './noop-agents.js';
import { orchestratorInFlight, orchestratorPerStep, orchestratorThroughput, OrchestratorProcess } from './orchestrator-bench.js';
import { mean, type PerStep, type Throughput } from './stats.js';

const smoke = process.env['BENCH_SMOKE'] === '1';
const sizes = smoke
  ? { throughput: 20, perStep: 10, inFlight: 200, rounds: 1 }
  : { throughput: 2_000, perStep: 200, inFlight: 10_000, rounds: 2 };
// BENCH_ONLY=throughput or BENCH_ONLY=inflight runs only that part (to profile it).
const only = process.env['BENCH_ONLY'];

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run "npm run bench", which starts the servers`);
  return value;
}

const natsUrl = env('NATS_URL');
const databaseUrl = env('DATABASE_URL');
const redisUrl = env('REDIS_URL');
const port = Number(process.env['BENCH_PORT'] ?? '3900');
const database = new URL(databaseUrl).pathname.slice(1);
if (!/_(bench|test)$/.test(database)) throw new Error(`refusing to wipe database "${database}": its name must end in _bench or _test`);

async function resetState(): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('TRUNCATE tasks');
  await client.end();
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  redis.disconnect();
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

async function main(): Promise<void> {
  await resetState();
  const client = await connect({ servers: natsUrl, name: 'bench-client' });
  const agentsConnection = await connect({ servers: natsUrl, name: 'bench-agents' });
  const redis = new URL(redisUrl);
  const bull = new BullmqBench({ host: redis.hostname, port: Number(redis.port || 6379), maxRetriesPerRequest: null });
  await bull.ready();

  let orchestrator = await OrchestratorProcess.start(port);
  let agents = new NoopAgents(agentsConnection);
  await agents.start();
  await waitForAgents(orchestrator);

  console.log('warming up');
  await orchestratorThroughput(client, 50, 'warm');
  await bull.throughput(50, 'warm');

  const ours: { throughput: Throughput[]; perStep: PerStep[] } = { throughput: [], perStep: [] };
  const theirs: { throughput: Throughput[]; perStep: PerStep[] } = { throughput: [], perStep: [] };
  for (let round = 1; round <= (only === 'inflight' ? 0 : sizes.rounds); round++) {
    console.log(`round ${round}: throughput (${sizes.throughput} workflows at once)`);
    ours.throughput.push(await orchestratorThroughput(client, sizes.throughput, `t${round}`));
    theirs.throughput.push(await bull.throughput(sizes.throughput, `t${round}`));
    if (only === 'throughput') continue;
    console.log(`round ${round}: per-step overhead (${sizes.perStep} workflows one at a time)`);
    ours.perStep.push(await orchestratorPerStep(client, sizes.perStep, `p${round}`));
    theirs.perStep.push(await bull.perStep(sizes.perStep, `p${round}`));
  }
  await agents.stop();
  await orchestrator.stop();
  await bull.close();

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

  const oT = mean(ours.throughput.map((t) => t.workflowsPerSecond));
  const bT = mean(theirs.throughput.map((t) => t.workflowsPerSecond));
  const oP50 = mean(ours.perStep.map((p) => p.p50));
  const bP50 = mean(theirs.perStep.map((p) => p.p50));
  const oP99 = mean(ours.perStep.map((p) => p.p99));
  const bP99 = mean(theirs.perStep.map((p) => p.p99));
  const rows = [
    ['throughput, workflows/s', fmt(oT, 0), fmt(bT, 0), fmt(oT / bT)],
    ['throughput, steps/s', fmt(oT * 5, 0), fmt(bT * 5, 0), fmt(oT / bT)],
    ['per-step overhead p50, ms', fmt(oP50), fmt(bP50), fmt(oP50 / bP50)],
    ['per-step overhead p99, ms', fmt(oP99), fmt(bP99), fmt(oP99 / bP99)],
    [`${inFlight.inFlight} workflows in flight: peak RSS, MB`, fmt(inFlight.peakRssMb, 0), '-', '-'],
    [`${inFlight.inFlight} workflows in flight: time to dispatch all, s`, fmt(inFlight.secondsToAccept, 1), '-', '-'],
  ];
  const table = [
    '| measure | orchestrator (durable, PostgreSQL) | BullMQ FlowProducer (Redis) | ours / BullMQ |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
  const header = `${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), Node ${process.version}; ` +
    `${sizes.throughput} workflows at once, ${sizes.perStep} one at a time, ${sizes.rounds} rounds alternating (means shown), ` +
    `five steps per workflow, no-op agents and workers.`;
  console.log(`\n${header}\n\n${table}\n`);
  if (!smoke && !only) {
    const file = join(new URL('..', import.meta.url).pathname, 'RESULTS.md');
    writeFileSync(file, `# Benchmark results\n\n${header}\n\nReproduce: \`npm run bench\`.\n\n${table}\n`);
    console.log(`written to ${file}`);
  }
}

await main();
