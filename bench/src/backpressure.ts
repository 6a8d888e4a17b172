/**
 * The backpressure benchmark: one agent with room for CAPACITY sub-tasks that takes DELAY_MS for
 * each (a plain NATS agent in a process of its own), two orchestrator replicas, workflows of two
 * steps on that agent. Requester `fair_b` sends 30 workflows, one every 100 ms, first alone, then
 * one second into a flood of 3,000 from requester `fair_a`. It reports how much of the agent's
 * capacity the flood used, the small requester's latency alone and during the flood, and the most
 * sub-tasks the agent ever held. Writes its section of bench/RESULTS.md.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { Redis } from 'ioredis';
import pg from 'pg';
import { env } from './env.js';
import { OrchestratorProcess } from './orchestrator-bench.js';
import { reap } from './reaper.js';
import { percentile } from './stats.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const smoke = process.env['BENCH_SMOKE'] === '1';
const CAPACITY = 8;
const DELAY_MS = 20;
const FLOOD = smoke ? 200 : 3_000;
const SMALL = smoke ? 5 : 30;
const STEPS = 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface AgentStats {
  received: number;
  maxHeld: number;
  heldMs: number;
}

async function reset(databaseUrl: string, redisUrl: string): Promise<{ fsync: string; synchronousCommit: string }> {
  const database = new URL(databaseUrl).pathname.slice(1);
  if (!/_(bench|test)$/.test(database)) throw new Error(`refusing to wipe database "${database}": its name must end in _bench or _test`);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('TRUNCATE tasks, task_events');
  const fsync = (await client.query<{ fsync: string }>('SHOW fsync')).rows[0]?.fsync ?? '?';
  const synchronousCommit = (await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit ?? '?';
  await client.end();
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  redis.disconnect();
  return { fsync, synchronousCommit };
}

async function agentStats(nc: NatsConnection, reset = false): Promise<AgentStats> {
  const reply = await nc.request('bench.busy.stats', encoder.encode(reset ? 'reset' : ''), { timeout: 10_000 });
  return JSON.parse(decoder.decode(reply.data)) as AgentStats;
}

/** Submits one workflow for `requester` and resolves with how long its final answer took, in ms. */
async function run(nc: NatsConnection, requester: string, id: string): Promise<number> {
  const started = performance.now();
  const reply = await nc.request(
    ORCHESTRATOR_TASK_SUBJECT,
    encoder.encode(JSON.stringify({ task_id: id, task_type: 'bench_busy_pair', requester_id: requester, payload: { n: id } })),
    { timeout: 600_000 },
  );
  const answer = JSON.parse(decoder.decode(reply.data)) as { status: string; error: string | null };
  if (answer.status !== 'COMPLETED') throw new Error(`${id} ended ${answer.status}: ${answer.error ?? ''}`);
  return performance.now() - started;
}

/** The small requester: `SMALL` workflows, one every 100 ms; their latencies. */
async function small(nc: NatsConnection, prefix: string): Promise<number[]> {
  const runs: Promise<number>[] = [];
  for (let i = 0; i < SMALL; i++) {
    runs.push(run(nc, 'fair_b', `${prefix}-${i}`));
    await sleep(100);
  }
  return Promise.all(runs);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

const fmt = (n: number, digits = 0): string => n.toFixed(digits);

async function main(): Promise<void> {
  const natsUrl = env('NATS_URL');
  const databaseUrl = env('DATABASE_URL');
  const redisUrl = env('REDIS_URL');
  const { fsync, synchronousCommit } = await reset(databaseUrl, redisUrl);
  const agent = reap(spawn(process.execPath, [join(ROOT, 'bench/dist/busy-agent.js')], {
    env: { ...process.env, CAPACITY: String(CAPACITY), DELAY_MS: String(DELAY_MS) },
    stdio: ['ignore', 'inherit', 'inherit'],
  }));
  const workflows = join(ROOT, 'bench/workflows');
  const ports = [await freePort(), await freePort()];
  const replicas = await Promise.all(ports.map((port, i) => OrchestratorProcess.start(port, { WORKFLOWS_DIR: workflows, INSTANCE_ID: `bench-${i + 1}` })));
  const nc = await connect({ servers: natsUrl, name: 'bench-backpressure' });
  try {
    for (let i = 0; ; i++) {
      const body = (await (await fetch(`${replicas[0]?.baseUrl ?? ''}/agents`)).json()) as { items: { name: string; capacity: number | null }[] };
      if (body.items.some((a) => a.name === 'bench_busy' && a.capacity === CAPACITY)) break;
      if (i > 100) throw new Error('the benchmark agent did not register');
      await sleep(100);
    }
    const alone = await small(nc, 'alone');
    await agentStats(nc, true);

    const started = performance.now();
    const flood = Promise.all(Array.from({ length: FLOOD }, (_, i) => run(nc, 'fair_a', `flood-${i}`)));
    await sleep(1_000);
    const during = await small(nc, 'during');
    await flood;
    const seconds = (performance.now() - started) / 1000;
    const stats = await agentStats(nc);
    const subtasks = (FLOOD + SMALL) * STEPS;
    const perSecond = stats.received / seconds;
    const possible = (CAPACITY * 1000) / DELAY_MS;
    const busy = stats.heldMs / (CAPACITY * seconds * 1000);
    const lines = [
      `## Backpressure: one agent of capacity ${CAPACITY}, ${DELAY_MS} ms a sub-task, two replicas`,
      '',
      `\`npm run bench\` (bench/src/backpressure.ts), ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ` +
        `PostgreSQL fsync=${fsync}, synchronous_commit=${synchronousCommit}${smoke ? ', smoke run' : ''}. The agent is a plain NATS client in a process of its own; ` +
        `it can do ${fmt(possible)} sub-tasks/s.`,
      '',
      '| measure | value |',
      '| --- | ---: |',
      `| flood: ${FLOOD} two-step workflows from fair_a (and ${SMALL} from fair_b), seconds | ${fmt(seconds, 1)} |`,
      `| sub-tasks the agent received (expected ${subtasks}) | ${stats.received} |`,
      `| sub-tasks/s during the flood | ${fmt(perSecond)} |`,
      `| capacity used (sub-tasks/s over ${fmt(possible)}) | ${fmt((perSecond / possible) * 100, 1)}% |`,
      `| capacity used (time-weighted slots held) | ${fmt(busy * 100, 1)}% |`,
      `| most sub-tasks the agent held at once (capacity ${CAPACITY}) | ${stats.maxHeld} |`,
      `| fair_b alone: p50 / p95 ms | ${fmt(percentile(alone, 50))} / ${fmt(percentile(alone, 95))} |`,
      `| fair_b during the flood: p50 / p95 ms | ${fmt(percentile(during, 50))} / ${fmt(percentile(during, 95))} |`,
      '',
    ];
    const section = lines.join('\n');
    console.log(section);
    if (stats.maxHeld > CAPACITY) throw new Error(`the agent held ${stats.maxHeld} sub-tasks at once; its capacity is ${CAPACITY}`);
    if (smoke) return;
    const results = join(ROOT, 'bench/RESULTS.md');
    const before = existsSync(results) ? readFileSync(results, 'utf8') : '';
    const at = before.indexOf('## Backpressure');
    writeFileSync(results, `${(at < 0 ? before : before.slice(0, at)).trimEnd()}\n\n${section}`);
  } finally {
    await nc.close();
    await Promise.all(replicas.map((replica) => replica.stop()));
    agent.kill('SIGTERM');
  }
}

await main();
