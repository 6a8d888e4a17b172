import { createInterface } from 'node:readline';
import { monotonicNs } from '../stats.js';

/**
 * The child's side of the line protocol between the bench and a process it runs (an agent, a job
 * queue's workers): one JSON command a line on stdin (`{"id": 1, "command": "start"}`), one JSON
 * reply a line on stdout (`{"id": 1, "ok": true, "value": ...}`), and events the child sends of its
 * own accord (`{"event": "done", "value": "t1-7"}`). Everything else the child says goes to stderr.
 * bench/python/control.py speaks the same protocol.
 */
export type CommandHandlers = Record<string, (args: unknown) => unknown>;

export function sendEvent(event: string, value?: unknown): void {
  process.stdout.write(`${JSON.stringify({ event, value })}\n`);
}

/** Answers commands until stdin closes or `quit` comes, then runs `quit` and exits. */
export function serveControl(handlers: CommandHandlers & { quit: () => Promise<void> | void }): void {
  const lines = createInterface({ input: process.stdin });
  let exiting: Promise<void> | undefined;
  const exit = (): Promise<void> =>
    (exiting ??= (async () => {
      await handlers.quit();
      process.exit(0);
    })());
  lines.on('line', (line) => {
    const { id, command, args } = JSON.parse(line) as { id: number; command: string; args?: unknown };
    const handler = handlers[command];
    void (async () => {
      try {
        if (!handler) throw new Error(`unknown command ${command}`);
        if (command === 'quit') return await exit();
        const value = await handler(args);
        process.stdout.write(`${JSON.stringify({ id, ok: true, value: value ?? null })}\n`);
      } catch (error) {
        process.stdout.write(`${JSON.stringify({ id, ok: false, error: error instanceof Error ? error.message : String(error) })}\n`);
      }
    })();
  });
  lines.once('close', () => void exit());
}

/** What a child that runs steps records: when each step's handler started and when it answered. */
export class StepClock {
  private spans: [number, number][] = [];

  record(start: number): void {
    this.spans.push([start, monotonicNs()]);
  }

  /** The spans recorded since the last call. */
  take(): [number, number][] {
    const spans = this.spans;
    this.spans = [];
    return spans;
  }
}

/** CPU time the process has used, in microseconds (user and system). */
export function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}
