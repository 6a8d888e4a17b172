import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import type { ControlledChild } from './child-process.js';
import { reap } from './reaper.js';
import { ChainSide } from './side.js';
import { countdown } from './stats.js';

const ROOT = new URL('../..', import.meta.url).pathname;

/** The orchestrator as `npm run start:orchestrator` runs it, on its own port. */
export class OrchestratorProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {}

  static async start(port: number, env: Record<string, string> = {}): Promise<OrchestratorProcess> {
    // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=.data/profiles" profiles the orchestrator.
    const nodeArgs = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
    const child = reap(spawn(process.execPath, [...nodeArgs, join(ROOT, 'apps/orchestrator/dist/main.js')], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), WORKFLOWS_DIR: join(ROOT, 'workflows'), LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    }));
    const orchestrator = new OrchestratorProcess(child, `http://127.0.0.1:${port}`);
    for (let i = 0; i < 300; i++) {
      if (child.exitCode !== null) throw new Error(`the orchestrator exited with ${child.exitCode}`);
      const ok = await fetch(`${orchestrator.baseUrl}/health/ready`).then((r) => r.ok, () => false);
      if (ok) return orchestrator;
      await sleep(100);
    }
    throw new Error('the orchestrator did not become ready');
  }

  /** Peak resident memory of the process so far, in MB (Linux). */
  peakRssMb(): number {
    const status = readFileSync(`/proc/${this.child.pid ?? 0}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
    return kb / 1024;
  }

  rssMb(): number {
    const status = readFileSync(`/proc/${this.child.pid ?? 0}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

function request(id: string): string {
  return JSON.stringify({ task_id: id, task_type: 'create_blog_post', payload: { topic: 'bench' } });
}

/** The orchestrator, its client on NATS, and the agents of one process answering its sub-tasks. */
export class OrchestratorSide extends ChainSide {
  constructor(
    label: string,
    short: string,
    private readonly nc: NatsConnection,
    worker: ControlledChild,
  ) {
    super(label, short, worker);
  }

  async runMany(ids: readonly string[]): Promise<void> {
    const inbox = `bench.replies.${ids[0] ?? 'none'}`;
    let failed = 0;
    const all = countdown(ids.length);
    const sub = this.nc.subscribe(`${inbox}.>`, {
      callback: (_error, msg) => {
        if (msg.json<{ status: string }>().status !== 'COMPLETED') failed += 1;
        all.tick();
      },
    });
    await this.nc.flush();
    for (const [i, id] of ids.entries()) this.nc.publish(ORCHESTRATOR_TASK_SUBJECT, request(id), { reply: `${inbox}.${i}` });
    await all.done;
    sub.unsubscribe();
    if (failed > 0) throw new Error(`${failed} of ${ids.length} workflows did not complete`);
  }

  async runOne(id: string): Promise<void> {
    const reply = await this.nc.request(ORCHESTRATOR_TASK_SUBJECT, request(id), { timeout: 30_000 });
    if (reply.json<{ status: string }>().status !== 'COMPLETED') throw new Error(`workflow ${id} did not complete`);
  }
}

/** Submits `count` workflows against agents that hold every sub-task; reports memory once all are in flight. */
export async function orchestratorInFlight(
  nc: NatsConnection,
  orchestrator: OrchestratorProcess,
  count: number,
  heldCount: () => number,
  run: string,
): Promise<{ inFlight: number; secondsToAccept: number; peakRssMb: number; rssMb: number }> {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    nc.publish(ORCHESTRATOR_TASK_SUBJECT, request(`${run}-${i}`));
    if (i % 500 === 499) await nc.flush();
  }
  await nc.flush();
  for (;;) {
    if (heldCount() >= count) break;
    if (performance.now() - started > 600_000) throw new Error(`only ${heldCount()} of ${count} workflows reached their agents`);
    await sleep(100);
  }
  return {
    inFlight: Math.min(heldCount(), count),
    secondsToAccept: (performance.now() - started) / 1000,
    peakRssMb: orchestrator.peakRssMb(),
    rssMb: orchestrator.rssMb(),
  };
}
