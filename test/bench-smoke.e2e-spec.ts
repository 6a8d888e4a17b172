import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDatabase } from './support/database.js';
import { freePort, waitFor } from './support/orchestrator-process.js';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;

const figure = String.raw`\d+(\.\d\d)?`;
const ratio = String.raw`\d+\.\d\d`;
/** A row of the comparison table: four sides, then ours over each of the other three. */
const row = (measure: string): RegExp => new RegExp(String.raw`\| ${measure} \|( ${figure} \|){4}( ${ratio} \|){3}`);

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

  it('runs all four sides and prints the comparison table', async () => {
    const { stdout } = await run(process.execPath, ['bench/dist/bench.js'], {
      cwd: ROOT,
      env: {
        ...process.env,
        BENCH_SMOKE: '1',
        BENCH_PORT: String(await freePort()),
        REDIS_AOF_URL: `redis://127.0.0.1:${durableRedisPort}`,
      },
      timeout: 120_000,
    });
    for (const side of ['ours', 'BullMQ', 'BullMQ AOF', 'pg-boss']) {
      expect(stdout).toMatch(new RegExp(String.raw`^  ${side}: \d+ workflows/s$`, 'm'));
      expect(stdout).toMatch(new RegExp(String.raw`^  ${side}: p50 \d+\.\d\d ms, p99 \d+\.\d\d ms$`, 'm'));
    }
    expect(stdout).toMatch(row('throughput, workflows/s'));
    expect(stdout).toMatch(row('per-step overhead p50, ms'));
    expect(stdout).toMatch(row('per-step overhead p99, ms'));
    expect(stdout).toMatch(/\| 200 workflows in flight: peak RSS, MB \| \d+ \|( - \|){6}/);
  });

  it('runs the backpressure benchmark: one busy agent, a flood and a small requester, within capacity', async () => {
    const { stdout } = await run(process.execPath, ['bench/dist/backpressure.js'], {
      cwd: ROOT,
      env: { ...process.env, BENCH_SMOKE: '1' },
      timeout: 180_000,
    });
    expect(stdout).toMatch(/^\| sub-tasks the agent received \(expected 410\) \| 410 \|$/m);
    expect(stdout).toMatch(/^\| most sub-tasks the agent held at once \(capacity 8\) \| [1-8] \|$/m);
    expect(stdout).toMatch(/^\| fair_b during the flood: p50 \/ p95 ms \| \d+ \/ \d+ \|$/m);
  });
});
