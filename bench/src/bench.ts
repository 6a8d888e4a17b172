/**
 * npm run bench: the orchestrator against four job queues on the five-step create_blog_post shape,
 * in one run on the same machine: BullMQ flows on a Redis that does not write to disk and on one
 * with an append-only file fsynced every second, pg-boss by polling alone and at its best (woken),
 * and graphile-worker (LISTEN/NOTIFY) on the orchestrator's PostgreSQL. Every side's steps run in a
 * process of their own: the orchestrator's by a plain NATS agent, the queues' by their workers.
 * Then what the agent SDKs add per sub-task, and the orchestrator with many workflows in flight.
 * BENCH_SMOKE=1 runs a few seconds of each; BENCH_ONLY=compare|sdk|inflight runs one part.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startAgentProcess, type AgentKind } from './agent-processes.js';
import { BullmqSide } from './bullmq-bench.js';
import type { ControlledChild } from './child-process.js';
import { env } from './env.js';
import { GraphileSide } from './graphile-bench.js';
import { BLOG_POST_AGENTS } from './blog-post-agents.js';
import { HoldingAgents } from './holding-agents.js';
import { orchestratorInFlight, OrchestratorProcess, OrchestratorSide } from './orchestrator-bench.js';
import { PgBossSide } from './pgboss-bench.js';
import { comparisonTable, fmt, outsideAgentTable, roundsTable, sdkTable, type SideResult } from './results.js';
import { measureSdkOverhead } from './sdk-overhead.js';
import { durabilitySettings, natsRoundTrip, resetState } from './servers.js';
import { measureBurst, measureLatency, type ChainSide } from './side.js';

const smoke = process.env['BENCH_SMOKE'] === '1';
const sizes = smoke
  ? { warmup: 5, burst: 20, latency: 5, pollingLatency: 2, rounds: 2, floor: 20, inFlight: 200, sdk: { rounds: 1, runs: 3, warmup: 1 } }
  : { warmup: 50, burst: 2_000, latency: 200, pollingLatency: 20, rounds: 3, floor: 1_000, inFlight: 10_000, sdk: { rounds: 24, runs: 12, warmup: 2 } };
const only = process.env['BENCH_ONLY'];
const runs = (part: 'compare' | 'sdk' | 'inflight'): boolean => only === undefined || only === part;

const BENCH = new URL('..', import.meta.url).pathname;
const ECHO_SUBJECT = 'bench.echo';
const natsUrl = env('NATS_URL');
const databaseUrl = env('DATABASE_URL');
const redisUrl = env('REDIS_URL');
// A second Redis, with appendonly yes and appendfsync everysec (scripts/bench.sh starts it).
const redisAofUrl = env('REDIS_AOF_URL');
// The Python SDK's virtual environment (scripts/python-sdk-venv.sh; scripts/bench.sh makes it).
const pythonVenv = runs('sdk') ? env('PYTHON_SDK_VENV') : '';
const port = Number(process.env['BENCH_PORT'] ?? '3900');
const database = new URL(databaseUrl).pathname.slice(1);
if (!/_(bench|test)$/.test(database)) throw new Error(`refusing to wipe database "${database}": its name must end in _bench or _test`);

/** Until the five agents of create_blog_post are registered (others, of another benchmark, may be too). */
async function waitForAgents(orchestrator: OrchestratorProcess): Promise<void> {
  let seen: string[] = [];
  for (let i = 0; i < 100; i++) {
    const body = (await (await fetch(`${orchestrator.baseUrl}/agents`)).json()) as { items: { name: string }[] };
    seen = body.items.map((item) => item.name);
    if (BLOG_POST_AGENTS.every(({ name }) => seen.includes(name))) return;
    await sleep(100);
  }
  throw new Error(`the agents did not register (registered: ${seen.join(', ') || 'none'})`);
}

/** Each round runs every side in turn, the order rotating from round to round; each side alone on the machine. */
async function compare(sides: readonly ChainSide[]): Promise<SideResult[]> {
  const results = new Map(sides.map((s) => [s, { label: s.label, short: s.short, bursts: [] as number[], latencies: [] as SideResult['latencies'] }]));
  console.log('warming up');
  for (const s of sides) {
    await s.activate();
    await measureBurst(s, sizes.warmup, `warm-${s.short}`);
    await s.deactivate();
  }
  for (let round = 1; round <= sizes.rounds; round++) {
    const order = sides.map((_, i) => sides[(i + round - 1) % sides.length]);
    console.log(`round ${round} (${order.map((s) => s.short).join(', ')}): a burst of ${sizes.burst} at once, then workflows one at a time`);
    for (const s of order) {
      const result = results.get(s)!;
      await s.activate();
      const burst = await measureBurst(s, sizes.burst, `r${round}-${s.short}-b`);
      const runsAlone = s.latencyRuns ?? sizes.latency;
      const latency = await measureLatency(s, runsAlone, `r${round}-${s.short}-l`);
      await s.deactivate();
      result.bursts.push(burst);
      result.latencies.push(latency);
      const { perStep, firstStep, lastStep } = latency;
      console.log(
        `  ${s.short}: ${fmt(burst, 0)} workflows/s; ${runsAlone} alone: per-step p50 ${fmt(perStep.p50)} ms, p90 ${fmt(perStep.p90)} ms, ` +
          `p99 ${fmt(perStep.p99)} ms; submit to first step p50 ${fmt(firstStep.p50)} ms; last step to done p50 ${fmt(lastStep.p50)} ms` +
          (latency.unmatched > 0 ? ` (${latency.unmatched} workflows without ${5} step spans left out)` : ''),
      );
    }
  }
  return sides.map((s) => results.get(s)!);
}

/** What a run started, stopped in the reverse order whether the run ends well or not. */
class Started {
  private readonly closers: (() => Promise<unknown>)[] = [];

  add<T>(thing: T, close: (thing: T) => Promise<unknown>): T {
    this.closers.push(() => close(thing));
    return thing;
  }

  async closeAll(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close().catch((error: unknown) => console.error(`closing: ${String(error)}`));
  }
}

async function compareSides(started: Started, client: NatsConnection, plainAgent: ControlledChild, orchestrator: OrchestratorProcess): Promise<string[]> {
  const pgBoss = started.add(await PgBossSide.client(databaseUrl), (boss) => boss.stop({ graceful: false }));
  const ours = new OrchestratorSide('orchestrator (durable, PostgreSQL; plain agent in its own process)', 'ours', client, plainAgent);
  await ours.activate();
  await waitForAgents(orchestrator);
  await ours.deactivate();
  const close = (side: ChainSide): Promise<void> => side.close();
  const queues = Promise.all([
    BullmqSide.start('BullMQ FlowProducer (Redis, no persistence)', 'BullMQ', redisUrl, BENCH),
    BullmqSide.start('BullMQ FlowProducer (Redis AOF, fsync every second)', 'BullMQ AOF', redisAofUrl, BENCH),
    GraphileSide.start('graphile-worker chain, LISTEN/NOTIFY (durable, PostgreSQL)', 'graphile-worker', databaseUrl, BENCH),
  ]);
  // One after the other: pg-boss's createQueue deadlocks against itself.
  const polling = { label: 'pg-boss chain, polling alone (durable, PostgreSQL)', short: 'pg-boss polling', woken: false, latencyRuns: sizes.pollingLatency };
  const pgBossPolling = started.add(await PgBossSide.start(polling, pgBoss, databaseUrl, BENCH), close);
  const woken = { label: 'pg-boss chain, woken by its own process (best case; durable, PostgreSQL)', short: 'pg-boss woken', woken: true };
  const pgBossWoken = started.add(await PgBossSide.start(woken, pgBoss, databaseUrl, BENCH), close);
  const [bullmq, bullmqAof, graphile] = (await queues).map((side) => started.add(side, close));
  const results = await compare([ours, bullmq, bullmqAof, pgBossPolling, pgBossWoken, graphile]);
  await plainAgent.call('start');
  const floor = await natsRoundTrip(client, ECHO_SUBJECT, sizes.floor);
  await plainAgent.call('stop');
  return [
    `## The orchestrator and four job queues\n\nMedians of ${sizes.rounds} rounds; per-step figures from per-step samples (a step answered to the next one started, as the process running the steps saw it).\n\n${comparisonTable(results, sizes.burst, [])}`,
    `## The orchestrator seen from its agent's process\n\nA plain NATS agent in its own process answers every sub-task at once and notes when each came and when it answered; medians of the rounds.\n\n${outsideAgentTable(results[0], floor)}`,
    `## Every round\n\n${roundsTable(results)}`,
  ];
}

async function sdkSection(client: NatsConnection, agents: ReadonlyMap<AgentKind, ControlledChild>): Promise<string> {
  console.log(`SDK overhead: ${sizes.sdk.rounds} rounds of ${sizes.sdk.runs} workflows one at a time per agent`);
  const rows = await measureSdkOverhead(client, agents, sizes.sdk, (line) => console.log(line));
  return (
    `## What the agent SDKs add\n\nThe same five agents written four ways, one workflow at a time against one orchestrator, taking turns within ` +
    `each round; the time is the client's, submit to final answer. "Added per sub-task": the median over the rounds of the ` +
    `difference to the compared agent's median workflow in the same round, over five. "Straight to the agent": the first step's sub-task sent to the agent ` +
    `directly, as the orchestrator sends it, request to answer.\n\n${sdkTable(rows)}`
  );
}

async function inFlightSection(client: NatsConnection): Promise<string> {
  console.log(`in flight: ${sizes.inFlight} workflows against agents that hold every sub-task`);
  await resetState(databaseUrl, [redisUrl, redisAofUrl]);
  const started = new Started();
  try {
    const orchestrator = started.add(await OrchestratorProcess.start(port), (o) => o.stop());
    const connection = started.add(await connect({ servers: natsUrl, name: 'bench-holding-agents' }), (nc) => nc.close());
    const holding = started.add(new HoldingAgents(connection), (agents) => agents.stop());
    await holding.start();
    await waitForAgents(orchestrator);
    const inFlight = await orchestratorInFlight(client, orchestrator, sizes.inFlight, () => holding.heldCount, 'f');
    return (
      `## Many workflows in flight\n\n| measure | orchestrator |\n| --- | ---: |\n` +
      `| ${inFlight.inFlight} workflows in flight: peak RSS, MB | ${fmt(inFlight.peakRssMb, 0)} |\n` +
      `| ${inFlight.inFlight} workflows in flight: time to dispatch all, s | ${fmt(inFlight.secondsToAccept, 1)} |`
    );
  } finally {
    await started.closeAll();
  }
}

/** Prints a part's tables as soon as it is measured, so that a later part that fails does not take them with it. */
function shown(sections: string[]): string[] {
  console.log(`\n${sections.join('\n\n')}\n`);
  return sections;
}

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0];
  await resetState(databaseUrl, [redisUrl, redisAofUrl]);
  const settings = await durabilitySettings(databaseUrl, [
    { label: 'Redis', url: redisUrl },
    { label: 'durable Redis', url: redisAofUrl },
  ]);
  const sections: string[] = [];
  const client = await connect({ servers: natsUrl, name: 'bench-client' });
  try {
    if (runs('compare') || runs('sdk')) {
      const started = new Started();
      try {
        const orchestrator = started.add(await OrchestratorProcess.start(port), (o) => o.stop());
        const kinds: AgentKind[] = runs('sdk') ? ['plainNode', 'sdkNode', 'plainPython', 'sdkPython'] : ['plainNode'];
        const agents = new Map<AgentKind, ControlledChild>(
          await Promise.all(kinds.map(async (kind) => [kind, started.add(await startAgentProcess(kind, natsUrl, pythonVenv), (c) => c.close())] as const)),
        );
        if (runs('compare')) sections.push(...shown(await compareSides(started, client, agents.get('plainNode')!, orchestrator)));
        if (runs('sdk')) sections.push(...shown([await sdkSection(client, agents)]));
      } finally {
        await started.closeAll();
      }
    }
    if (runs('inflight')) sections.push(...shown([await inFlightSection(client)]));
  } finally {
    await client.close();
  }
  await resetState(databaseUrl, [redisUrl, redisAofUrl]);

  const header =
    `${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), Node ${process.version}, ` +
    `load average (1 min) ${fmt(loadAtStart)} at the start and ${fmt(loadavg()[0])} at the end; five steps per workflow, no-op agents and workers. ` +
    `Durability, as the servers report it: ${settings}.`;
  const report = `${header}\n\n${sections.join('\n\n')}\n`;
  console.log(`\n${report}`);
  if (!smoke && !only) {
    const file = join(BENCH, 'RESULTS.md');
    writeFileSync(file, `# Benchmark results\n\nReproduce: \`npm run bench\`.\n\n${report}`);
    console.log(`written to ${file}`);
  }
}

await main();
