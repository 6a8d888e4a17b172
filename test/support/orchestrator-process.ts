import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { testEnv } from './test-env.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const LOG_DIR = join(ROOT, '.data', 'test', 'logs');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < until) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
}

/** Every app process this test file started and that still runs: killed when the file's process ends. */
const running = new Set<ChildProcess>();
let reaping = false;

/**
 * Kills `child` when this process ends first (a test that timed out, a worker stopped): a replica
 * left running would take the next file's requests, with its own workflows, from the shared NATS.
 */
export function reapOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (reaping) return;
  reaping = true;
  const killAll = (): void => {
    for (const one of running) if (one.exitCode === null && one.signalCode === null) one.kill('SIGKILL');
  };
  process.once('exit', killAll);
  process.once('SIGTERM', () => {
    killAll();
    process.exit(143);
  });
}

/** A process started from the compiled output, exactly as `npm run start:*` starts it. */
export class AppProcess {
  private exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port: number,
    readonly logFile: string,
    private readonly logged: Promise<void>,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(name: string, script: string, env: Record<string, string>, port = 0): AppProcess {
    mkdirSync(LOG_DIR, { recursive: true });
    const logFile = join(LOG_DIR, `${name}-${Date.now()}.log`);
    const log = createWriteStream(logFile);
    const logged = new Promise<void>((resolve) => log.once('close', resolve));
    const child = spawn(process.execPath, [join(ROOT, script)], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Both streams write to one file, which is closed once both have ended.
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once('close', () => log.end());
    reapOnExit(child);
    return new AppProcess(name, child, port, logFile, logged);
  }

  /** What the process wrote to stdout and stderr, once it has exited and all of it is in the log. */
  async output(): Promise<string> {
    await this.logged;
    return readFile(this.logFile, 'utf8');
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  waitForExit(): Promise<number | null> {
    return this.exited;
  }
}

export interface OrchestratorOptions {
  workflowsDir?: string;
  env?: Record<string, string>;
}

/** The process exited before it was ready: `app.output()` tells why. */
export class AppExitedError extends Error {
  constructor(readonly app: AppProcess) {
    super(`${app.name} exited with ${String(app.child.exitCode ?? app.child.signalCode)} before it was ready; see ${app.logFile}`);
    this.name = 'AppExitedError';
  }
}

/** Starts `node apps/orchestrator/dist/main.js` and waits until it is ready; throws AppExitedError if it exits first. */
export async function startOrchestrator(options: OrchestratorOptions = {}): Promise<AppProcess> {
  const env = testEnv();
  const port = await freePort();
  const app = AppProcess.start('orchestrator', 'apps/orchestrator/dist/main.js', {
    NATS_URL: env.natsUrl,
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    WORKFLOWS_DIR: options.workflowsDir ?? join(ROOT, 'workflows'),
    SWEEP_INTERVAL_MS: '200',
    LOG_LEVEL: 'log',
    ...options.env,
  }, port);
  let state: 'exited' | 'ready';
  try {
    // A loaded machine takes half a minute or more to start one: the log shows nothing until it is up.
    state = await waitFor(
      `the orchestrator to be ready (log: ${app.logFile})`,
      async () => {
        if (!app.running) return 'exited';
        const res = await fetch(`${app.baseUrl}/health/ready`);
        return res.status === 200 ? 'ready' : undefined;
      },
      90_000,
    );
  } catch (error) {
    // Nobody would stop a replica that never got ready.
    await app.kill();
    throw error;
  }
  if (state === 'exited') throw new AppExitedError(app);
  return app;
}

/** Waits until the orchestrator's registry lists `count` agents; returns their names. */
export async function waitForAgents(baseUrl: string, count: number): Promise<string[]> {
  return waitFor(`${count} agents to be registered`, async () => {
    const body = (await (await fetch(`${baseUrl}/agents`)).json()) as { items: { name: string }[] };
    return body.items.length === count ? body.items.map((agent) => agent.name) : undefined;
  });
}

/** Starts `node apps/demo-agents/dist/main.js` (all five agents, or those in `agents`). */
export function startDemoAgents(publishDir: string, agents?: string[], env: Record<string, string> = {}): AppProcess {
  return AppProcess.start('demo-agents', 'apps/demo-agents/dist/main.js', {
    NATS_URL: testEnv().natsUrl,
    PUBLISH_DIR: publishDir,
    HEARTBEAT_INTERVAL_MS: '1000',
    ...(agents ? { AGENTS: agents.join(',') } : {}),
    ...env,
  });
}
