import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let installed = false;

function killAll(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/**
 * Kills `child` if this process ends before it: an orchestrator the bench started must not outlive
 * the bench (stopped by a signal or a timeout) and go on answering on a NATS server others use.
 */
export function reap<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!installed) {
    installed = true;
    process.once('exit', killAll);
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.once(signal, () => {
        killAll();
        process.exit(128 + (signal === 'SIGHUP' ? 1 : signal === 'SIGINT' ? 2 : 15));
      });
    }
  }
  return child;
}
