import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pythonSdkVenv } from './support/python-venv.js';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

const ROOT = new URL('..', import.meta.url).pathname;
const SDK_DIR = join(ROOT, 'sdks', 'python');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'python-sdk');
/**
 * The tests in sdks/python/tests (unit and integration). Exact, so that a run that collects fewer
 * (a file that fails to import, a test skipped) fails here: change it with the tests.
 */
const EXPECTED_PASSED = 125;

/** The virtual environment's pytest, from PYTHON_SDK_VENV (set by scripts/test.sh). */
function venvPytest(): string {
  return join(pythonSdkVenv('pytest'), 'bin', 'pytest');
}

/** Runs a command, streaming its output through, and returns its exit code and output. */
function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (chunk: Buffer): void => {
      output += chunk.toString();
      process.stdout.write(chunk);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** The counts in pytest's closing line (`3 failed, 64 passed, 1 skipped in 9.1s`); zero for those absent. */
function pytestCounts(output: string): Record<'passed' | 'failed' | 'errors' | 'skipped', number> {
  const closing = output
    .split('\n')
    .reverse()
    .find((line) => /\bin [\d.]+s\b/.test(line) && /\d+ (passed|failed|errors?|skipped|deselected|no tests ran)/.test(line));
  const count = (word: RegExp): number => Number(closing?.match(word)?.[1] ?? 0);
  return {
    passed: count(/(\d+) passed/),
    failed: count(/(\d+) failed/),
    errors: count(/(\d+) errors?\b/),
    skipped: count(/(\d+) skipped/),
  };
}

describe('the Python agent SDK (sdks/python)', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, demoAgents: true, waitForAgents: 5 });

  it('passes its pytest suite against this orchestrator, with the Node demo agents doing the other steps', async () => {
    const pytest = venvPytest();
    const { code, output } = await run(pytest, ['-q', '--color=no', '-p', 'no:cacheprovider'], {
      cwd: SDK_DIR,
      env: { ...process.env, NATS_URL: testEnv().natsUrl, ORCHESTRATOR_URL: stack.orchestrator.baseUrl },
    });
    const tail = output.split('\n').slice(-40).join('\n');
    expect(code, `pytest exited with ${String(code)}:\n${tail}`).toBe(0);
    expect(pytestCounts(output), tail).toEqual({ passed: EXPECTED_PASSED, failed: 0, errors: 0, skipped: 0 });
  }, 300_000);
});
