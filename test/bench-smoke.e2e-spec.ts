import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { TestDatabase } from './support/database.js';
import { freePort } from './support/orchestrator-process.js';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;

/** The benchmark is a program, not a test; this runs a few seconds of it so that it cannot rot. */
describe('the benchmark in smoke mode', () => {
  beforeAll(async () => {
    const db = await TestDatabase.connect();
    await db.reset();
    await db.close();
  });

  it('runs both sides and prints the comparison table', async () => {
    const { stdout } = await run(process.execPath, ['bench/dist/bench.js'], {
      cwd: ROOT,
      env: { ...process.env, BENCH_SMOKE: '1', BENCH_PORT: String(await freePort()) },
      timeout: 120_000,
    });
    expect(stdout).toMatch(/\| throughput, workflows\/s \| \d+ \| \d+ \| \d+\.\d\d \|/);
    expect(stdout).toMatch(/\| per-step overhead p50, ms \| \d+\.\d\d \| \d+\.\d\d \| \d+\.\d\d \|/);
    expect(stdout).toMatch(/\| 200 workflows in flight: peak RSS, MB \| \d+ \|/);
  });
});
