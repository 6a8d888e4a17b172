import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from './support/orchestrator-process.js';

const ROOT = new URL('..', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const DEMO_DIR = join(ROOT, '.data/demo');

/** The fenced block of `lang` that follows `heading` in the README, exactly as a reader sees it. */
function blockAfter(heading: string, lang: string): string {
  const from = README.indexOf(heading);
  if (from < 0) throw new Error(`the README has no "${heading}"`);
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(README.slice(from));
  if (!match?.[1]) throw new Error(`no ${lang} block after "${heading}"`);
  return match[1];
}

interface Ran {
  code: number | null;
  out: string;
}

function bash(script: string, env: Record<string, string>, timeoutMs = 120_000): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: ROOT, env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/**
 * A newcomer, following the README: `npm run demo`, then from another terminal the README's own
 * commands (the example script, curl, the CLI, a Python agent in a workflow), then `npm run demo:stop`.
 * Only what cannot be the same on a shared machine is changed: the ports (the demo's are taken by
 * others), the workflows folder (a copy, not the repository's), and the Python package comes from
 * PYTHON_SDK_VENV (no package index here) instead of `pip install`.
 */
describe('a newcomer following the README against the running demo', () => {
  const workflows = mkdtempSync(join(tmpdir(), 'newcomer-workflows-'));
  let demo: ChildProcess;
  let demoOut = '';
  let port = 0;
  let natsPort = 0;
  const venv = process.env['PYTHON_SDK_VENV'];

  const asWritten = (text: string): string =>
    text
      .replaceAll('nats://127.0.0.1:14222', `nats://127.0.0.1:${natsPort}`)
      .replaceAll('http://localhost:3000', `http://127.0.0.1:${port}`)
      .replaceAll(' workflows/', ` ${workflows}/`);
  const cliEnv = (): Record<string, string> => ({ ORCHESTRATOR_URL: `http://127.0.0.1:${port}`, NATS_URL: `nats://127.0.0.1:${natsPort}` });

  beforeAll(async () => {
    if (!venv) throw new Error('PYTHON_SDK_VENV is not set: run `bash scripts/python-sdk-venv.sh` and set it to the directory it prints');
    cpSync(join(ROOT, 'workflows'), workflows, { recursive: true });
    [port, natsPort] = [await freePort(), await freePort()];
    demo = spawn('npm', ['run', 'demo'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), NATS_PORT: String(natsPort), REDIS_PORT: String(await freePort()), PG_PORT: String(await freePort()), WORKFLOWS_DIR: workflows },
    });
    demo.stdout?.on('data', (d: Buffer) => (demoOut += d.toString()));
    demo.stderr?.on('data', (d: Buffer) => (demoOut += d.toString()));
    await waitFor('the demo to run', () => (demoOut.includes('Running; the dashboard is at') ? true : demo.exitCode !== null ? Promise.reject(new Error(demoOut)) : undefined), 420_000, 500);
  }, 450_000);

  afterAll(async () => {
    if (demo.exitCode === null) await bash('npm run demo:stop', {});
    rmSync(workflows, { recursive: true, force: true });
  }, 120_000);

  it('ran the demo\'s own workflows to COMPLETED, on the NATS it printed', () => {
    expect(demoOut).toContain('"status": "COMPLETED"');
    expect(demoOut).toContain(`Submit another: NATS_URL=nats://127.0.0.1:${natsPort} node scripts/submit-example.mjs`);
  });

  it('submits with the example script, curl and the CLI, as "Talking to it" shows', async () => {
    const script = await bash(`node scripts/submit-example.mjs "Graphs"`, cliEnv());
    expect(script.code, script.out).toBe(0);
    expect(script.out).toContain('"status": "COMPLETED"');

    const curl = asWritten(blockAfter('Over HTTP, on port 3000', 'bash')).replaceAll('post-2', `post-${Date.now().toString(36)}`);
    const posted = await bash(curl, {});
    expect(posted.code, posted.out).toBe(0);
    expect(posted.out).toMatch(/"status":"RUNNING"/);

    const line = /`(npx orchestrator submit create_blog_post [^`]+)`/.exec(README)?.[1] ?? 'missing from the README';
    const cli = await bash(line, cliEnv());
    expect(cli.code, cli.out).toBe(0);
    expect(cli.out).toMatch(/COMPLETED in \d+/);
  }, 180_000);

  it('puts the Python example agent into a workflow, as "A Python agent in a workflow" says', async () => {
    const block = blockAfter('### A Python agent in a workflow', 'bash').split('\n');
    // The two install lines, as they stand; their environment comes ready-made here.
    expect(block.slice(0, 2)).toEqual(['python3 -m venv .venv && . .venv/bin/activate', 'pip install ./sdks/python']);
    const steps = [`. ${venv ?? ''}/bin/activate`, ...block.slice(2).map(asWritten), 'status=$?', 'kill %1', 'wait', 'exit $status'].join('\n');
    const ran = await bash(steps, cliEnv(), 150_000);
    expect(ran.code, ran.out).toBe(0);
    expect(ran.out).toMatch(/review\s+dispatched\s+reviewer, attempt 1/);
    expect(ran.out).toMatch(/py_blog_post-\S+ COMPLETED in/);
    expect(existsSync(join(workflows, 'py_blog_post.yaml'))).toBe(true);
  }, 180_000);

  it('stops everything with npm run demo:stop', async () => {
    const stopped = await bash('npm run demo:stop', {});
    expect(stopped.code, stopped.out).toBe(0);
    await waitFor('the demo to end', () => (demo.exitCode !== null || demo.signalCode !== null ? true : undefined), 60_000);
    expect(demoOut).toContain('[infra] stopped postgres');
    expect(existsSync(join(DEMO_DIR, 'run', 'demo.pid'))).toBe(false);
    const health = await fetch(`http://127.0.0.1:${port}/health/live`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(health).toBe('refused');
  }, 120_000);
});
