import { TaskStatus, type TaskDetailView, type TaskResponse } from '@orchestrator/contracts';
import { OrchestratorError } from './orchestrator-error.js';

/** The final response of a finished task, from its `GET /tasks/:id` view. */
export function responseFromDetail(detail: TaskDetailView): TaskResponse {
  const completedAt = detail.completed_at === null ? null : Date.parse(detail.completed_at) / 1000;
  return {
    task_id: detail.task_id,
    status: detail.status,
    success: detail.status === TaskStatus.Completed,
    result: detail.result,
    error: detail.error,
    completed_at: completedAt === null || Number.isNaN(completedAt) ? null : completedAt,
  };
}

/** `work`, or OrchestratorError `TIMEOUT` after `timeoutMs`, or the signal's reason when aborted first. */
export function withTimeout<T>(work: Promise<T>, timeoutMs: number, taskId: string, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new OrchestratorError(`task ${taskId}: no final response within ${timeoutMs} ms (it goes on; wait again or cancel it)`, { code: 'TIMEOUT', taskId })),
      timeoutMs,
    );
    const onAbort = (): void => reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
  });
}
