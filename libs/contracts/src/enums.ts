export enum TaskStatus {
  Pending = 'PENDING',
  /** A workflow waiting for a run of its concurrency key to end (`concurrency` in its workflow file). */
  Queued = 'QUEUED',
  Running = 'RUNNING',
  Completed = 'COMPLETED',
  Failed = 'FAILED',
  Cancelled = 'CANCELLED',
  /** A step of a workflow waiting for a signal, an external event or a time (never a workflow's own status). */
  Waiting = 'WAITING',
}

export const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set([
  TaskStatus.Completed,
  TaskStatus.Failed,
  TaskStatus.Cancelled,
]);

export function isTerminalStatus(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

export enum TaskPriority {
  Low = 'LOW',
  Normal = 'NORMAL',
  High = 'HIGH',
  Critical = 'CRITICAL',
}

/** Higher runs first. */
export const PRIORITY_RANK: Readonly<Record<TaskPriority, number>> = {
  [TaskPriority.Low]: 0,
  [TaskPriority.Normal]: 1,
  [TaskPriority.High]: 2,
  [TaskPriority.Critical]: 3,
};
