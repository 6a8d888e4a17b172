import { spawn, type ChildProcess } from 'node:child_process';
import { reap } from './reaper.js';
import { createInterface } from 'node:readline';

interface Reply {
  id?: number;
  ok?: boolean;
  value?: unknown;
  error?: string;
  event?: string;
}

/**
 * A process the bench runs beside it (an agent, a job queue's workers), driven by the line
 * protocol of children/control.ts: `call` sends a command and resolves with its reply; `onEvent`
 * hears what the child says of its own accord. The child says `ready` once it can take commands.
 */
export class ControlledChild {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly listeners = new Map<string, (value: unknown) => void>();
  private readonly exited: Promise<void>;
  private readonly ready: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    let readyResolve: () => void = () => undefined;
    this.ready = new Promise((resolve) => (readyResolve = resolve));
    this.listeners.set('ready', () => readyResolve());
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        const error = new Error(`${name} exited (${signal ?? String(code)})`);
        for (const { reject } of this.pending.values()) reject(error);
        this.pending.clear();
        resolve();
      }),
    );
    createInterface({ input: child.stdout! }).on('line', (line) => this.take(line));
  }

  /** Starts `command args` and waits until it says it is ready. */
  static async start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ControlledChild> {
    const child = reap(spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] }));
    const controlled = new ControlledChild(name, child);
    await Promise.race([
      controlled.ready,
      controlled.exited.then(() => Promise.reject(new Error(`${name} exited before it was ready`))),
    ]);
    return controlled;
  }

  call<T = unknown>(command: string, args?: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, command, args })}\n`);
    });
  }

  /** Sends a command without waiting for its reply (for one on the timed path). */
  tell(command: string, args?: unknown): void {
    const id = this.nextId++;
    this.pending.set(id, { resolve: () => undefined, reject: () => undefined });
    this.child.stdin!.write(`${JSON.stringify({ id, command, args })}\n`);
  }

  onEvent(event: string, listener: (value: unknown) => void): void {
    this.listeners.set(event, listener);
  }

  /** Asks the child to quit, and kills it if it has not within ten seconds. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.write(`${JSON.stringify({ id: 0, command: 'quit' })}\n`);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  private take(line: string): void {
    let reply: Reply;
    try {
      reply = JSON.parse(line) as Reply;
    } catch {
      process.stderr.write(`[${this.name}] ${line}\n`);
      return;
    }
    if (reply.event !== undefined) {
      this.listeners.get(reply.event)?.(reply.value);
      return;
    }
    const waiting = this.pending.get(reply.id ?? -1);
    if (!waiting) return;
    this.pending.delete(reply.id ?? -1);
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(new Error(`${this.name}: ${reply.error ?? 'failed'}`));
  }
}
