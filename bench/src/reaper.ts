import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let installed = false;

function killAll(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/**
 * Kills `child` if this process ends before it: an orchestrator the bench started must not outlive
 * the bench (stopped by a signal or a timeout, or left by the process that started it) and go on
 * answering on a NATS server others use.
 */
export function reap<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!installed) {
    installed = true;
    process.once('exit', killAll);
    // Nor may the bench outlive what started it (a test that gave up on it): it ends with its parent.
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) {
        killAll();
        process.exit(129);
      }
    }, 1_000).unref();
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.once(signal, () => {
        killAll();
        process.exit(128 + (signal === 'SIGHUP' ? 1 : signal === 'SIGINT' ? 2 : 15));
      });
    }
  }
  return child;
}
