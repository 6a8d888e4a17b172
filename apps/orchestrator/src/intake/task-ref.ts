import { isPlainObject, TASK_ID_PATTERN } from '@orchestrator/contracts';

/** The `task_id` of a control request (`{ "task_id": ... }`: cancel, retry, rerun), or the error naming the field. */
export function taskIdOf(body: unknown): { ok: true; taskId: string } | { ok: false; error: string } {
  const taskId = isPlainObject(body) ? body['task_id'] : undefined;
  if (typeof taskId !== 'string' || !TASK_ID_PATTERN.test(taskId)) {
    return { ok: false, error: 'task_id: is required: a string of 1 to 128 characters without whitespace' };
  }
  return { ok: true, taskId };
}

/** What every control request (cancel, retry, rerun) may come to besides its own outcomes. */
export type ControlMiss = { kind: 'rejected'; error: string } | { kind: 'unknown'; taskId: string };

export function isControlMiss(outcome: { kind: string }): outcome is ControlMiss {
  return outcome.kind === 'rejected' || outcome.kind === 'unknown';
}
