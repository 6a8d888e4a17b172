import { TaskStatus } from './enums.js';
import { parseUsage, type Usage } from './usage.js';
import { isPlainObject } from './validation.js';

/** The answer to a TaskRequest (CONTRACT.md, TaskResponse). */
export interface TaskResponse {
  task_id: string;
  status: TaskStatus;
  success: boolean;
  result: Record<string, unknown> | null;
  error: string | null;
  completed_at: number | null;
  /** What the work cost (an agent's report; for a workflow, what all its steps reported). */
  usage?: Usage;
}

export function nowSeconds(): number {
  return Date.now() / 1000;
}

export function completedResponse(taskId: string, result: Record<string, unknown>): TaskResponse {
  return { task_id: taskId, status: TaskStatus.Completed, success: true, result, error: null, completed_at: nowSeconds() };
}

export function failedResponse(
  taskId: string,
  error: string,
  result: Record<string, unknown> | null = null,
  status: TaskStatus.Failed | TaskStatus.Cancelled = TaskStatus.Failed,
): TaskResponse {
  return { task_id: taskId, status, success: false, result, error, completed_at: nowSeconds() };
}

const STATUSES = new Set<string>(Object.values(TaskStatus));

/**
 * Reads a TaskResponse sent by an agent. Lenient where the contract allows it (missing
 * `result`/`error`/`completed_at`), strict on what correlation and state depend on. A `usage` that
 * breaks its rules is left out and named in `usageError`.
 */
export function parseTaskResponse(input: unknown): { ok: true; value: TaskResponse; usageError?: string } | { ok: false; error: string } {
  if (!isPlainObject(input)) return { ok: false, error: 'response: must be a JSON object' };
  const { task_id, status, success, result, error, completed_at } = input;
  if (typeof task_id !== 'string' || task_id.length === 0 || task_id.length > 256) {
    return { ok: false, error: 'task_id: must be a non-empty string' };
  }
  if (typeof status !== 'string' || !STATUSES.has(status)) {
    return { ok: false, error: `status: must be one of ${[...STATUSES].join(', ')}` };
  }
  if (result !== undefined && result !== null && !isPlainObject(result)) {
    return { ok: false, error: 'result: must be a JSON object or null' };
  }
  if (error !== undefined && error !== null && typeof error !== 'string') {
    return { ok: false, error: 'error: must be a string or null' };
  }
  const typedStatus = status as TaskStatus;
  const usage = parseUsage(input['usage']);
  return {
    ok: true,
    ...(usage.ok ? {} : { usageError: usage.error }),
    value: {
      task_id,
      status: typedStatus,
      success: typeof success === 'boolean' ? success && typedStatus === TaskStatus.Completed : typedStatus === TaskStatus.Completed,
      result: (result) ?? null,
      error: (error) ?? null,
      completed_at: typeof completed_at === 'number' && Number.isFinite(completed_at) ? completed_at : null,
      ...(usage.ok && usage.value ? { usage: usage.value } : {}),
    },
  };
}
