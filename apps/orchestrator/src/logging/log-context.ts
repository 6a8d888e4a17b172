import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line written while working on a workflow carries: its task_id. */
export interface LogContext {
  task_id: string;
}

export const logContext = new AsyncLocalStorage<LogContext>();

/** Runs `work` with the workflow's task_id attached to every log line it writes. */
export function inTaskContext<T>(taskId: string, work: () => T): T {
  return logContext.run({ task_id: taskId }, work);
}
