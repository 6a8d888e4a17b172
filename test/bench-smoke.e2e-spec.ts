import { execFile, spawn, type ChildProcess, type ExecFileOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDatabase } from './support/database.js';
import { freePort, reapOnExit, waitFor } from './support/orchestrator-process.js';
import { pythonSdkVenv } from './support/python-venv.js';

const execute = promisify(execFile);
/** The benchmark as a program, killed with this file's process if it is still running then. */
function run(file: string, args: string[], options: ExecFileOptions): Promise<{ stdout: string; stderr: string }> {
  const running = execute(file, args, { ...options, encoding: 'utf8' });
  reapOnExit(running.child);
  return running;
}
const ROOT = new URL('..', import.meta.url).pathname;

const figure = String.raw`\d+(\.\d\d\d?)?`;
const ratio = String.raw`\d+\.\d\d`;
const SIDES = ['ours', 'BullMQ', 'BullMQ AOF', 'pg-boss polling', 'pg-boss woken', 'graphile-worker'];
const AGENTS = ['plain agent, Node', 'Node SDK', 'plain agent, Python', 'Python SDK'];
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A row of a table: its first cell, then `cells` cells each matching `cell`. */
const row = (first: string, cells: number, cell = figure): RegExp => new RegExp(String.raw`^\| ${first} \|( ${cell} \|){${cells}}$`, 'm');
const ms = String.raw`\d+\.\d\d ms`;

/** The benchmark is a program, not a test; this runs a few seconds of it so that it cannot rot. */
describe('the benchmark in smoke mode', () => {
  // The durable Redis that scripts/bench.sh starts next to the servers of the run.
  let durableRedis: ChildProcess;
  let durableRedisPort: number;
  let durableRedisDir: string;

  beforeAll(async () => {
    const db = await TestDatabase.connect();
    await db.reset();
    await db.close();
    durableRedisDir = mkdtempSync(join(tmpdir(), 'bench-redis-aof-'));
    durableRedisPort = await freePort();
    durableRedis = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(durableRedisPort), '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--dir', durableRedisDir],
      { stdio: 'ignore' },
    );
    await waitFor('the durable Redis', () => new Promise<true | undefined>((resolve) => {
      const socket = connect(durableRedisPort, '127.0.0.1')
        .once('connect', () => {
          socket.end();
          resolve(true);
        })
        .once('error', () => resolve(undefined));
    }));
  });

  afterAll(async () => {
    if (durableRedis.exitCode === null) {
      const exited = new Promise((resolve) => durableRedis.once('exit', resolve));
      durableRedis.kill('SIGTERM');
      await exited;
    }
    rmSync(durableRedisDir, { recursive: true, force: true });
  });

  it('runs every side in rotated rounds and prints every table, with the durability settings read from the servers', async () => {
    const { stdout } = await run(process.execPath, ['bench/dist/bench.js'], {
      cwd: ROOT,
      env: {
        ...process.env,
        BENCH_SMOKE: '1',
        BENCH_PORT: String(await freePort()),
        REDIS_AOF_URL: `redis://127.0.0.1:${durableRedisPort}`,
        PYTHON_SDK_VENV: pythonSdkVenv(),
      },
      timeout: 280_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    // Each round runs every side, starting one further along.
    expect(stdout).toMatch(new RegExp(`^round 1 \\(${SIDES.map(escape).join(', ')}\\)`, 'm'));
    expect(stdout).toMatch(new RegExp(`^round 2 \\(${[...SIDES.slice(1), SIDES[0]].map(escape).join(', ')}\\)`, 'm'));
    for (const side of SIDES) {
      const printed = new RegExp(
        String.raw`^  ${escape(side)}: \d+ workflows/s; \d+ alone: per-step p50 ${ms}, p90 ${ms}, p99 ${ms}; submit to first step p50 ${ms}; last step to done p50 ${ms}$`,
        'gm',
      );
      expect(stdout.match(printed), side).toHaveLength(2);
      expect(stdout).toMatch(row(`${escape(side)} \\| workflows/s`, 3));
      expect(stdout).toMatch(row(`${escape(side)} \\| per-step p99, ms`, 3));
    }
    expect(stdout).toMatch(/Durability, as the servers report it: PostgreSQL [^:]+: fsync=(on|off), synchronous_commit=\w+; Redis: appendonly=no, appendfsync=\w+, save=""; durable Redis: appendonly=yes, appendfsync=everysec/);
    // The comparison: six sides, then ours over each of the five others.
    const compared = (measure: string): RegExp => new RegExp(String.raw`^\| ${escape(measure)} \|( ${figure} \|){6}( ${ratio} \|){5}$`, 'm');
    for (const measure of [
      'burst of 20 at once, workflows/s',
      'per-step overhead p50, ms',
      'per-step overhead p90, ms',
      'per-step overhead p99, ms',
      'submit to first step p50, ms',
      'last step to done p50, ms',
      'one workflow alone p50, ms',
    ]) {
      expect(stdout).toMatch(compared(measure));
    }
    // The orchestrator seen from its agent's process: p50, p90, p99.
    for (const measure of ['per-step overhead \\(answer of a step to dispatch of the next\\)', 'submit to first dispatch', 'last answer to final answer', 'NATS request-reply round trip to the agent process \\(the floor\\)']) {
      expect(stdout).toMatch(row(measure, 3));
    }
    // What the SDKs add: each agent against the plain one on its own NATS client.
    const agentRow = (agent: string, added: string): RegExp =>
      new RegExp(String.raw`^\| ${escape(agent)} \([^|]+\) \| 3 \| ${figure} \| ${figure} \| ${added} \| ${figure} \| ${added} \| \d+ \| [^|]+ \|$`, 'm');
    expect(stdout).toMatch(agentRow(AGENTS[0], '-'));
    for (const agent of AGENTS.slice(1)) expect(stdout).toMatch(agentRow(agent, String.raw`[+-]\d+\.\d\d\d?`));
    expect(stdout).toMatch(/^\| 200 workflows in flight: peak RSS, MB \| \d+ \|$/m);
  }, 300_000);

  it('runs the backpressure benchmark: one busy agent, a flood and a small requester, within capacity', async () => {
    const { stdout } = await run(process.execPath, ['bench/dist/backpressure.js'], {
      cwd: ROOT,
      env: { ...process.env, BENCH_SMOKE: '1' },
      timeout: 180_000,
    });
    expect(stdout).toMatch(/^\| sub-tasks the agent received \(expected 410\) \| 410 \|$/m);
    expect(stdout).toMatch(/^\| most sub-tasks the agent held at once \(capacity 8\) \| [1-8] \|$/m);
    expect(stdout).toMatch(/^\| fair_b during the flood: p50 \/ p95 ms \| \d+ \/ \d+ \|$/m);
    // The test outlasts the program's own timeout: it never leaves the program running.
  }, 200_000);
});
