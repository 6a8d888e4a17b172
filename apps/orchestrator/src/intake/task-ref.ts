import { isPlainObject, TASK_ID_PATTERN } from '@orchestrator/contracts';
import type { MetricsService } from '../metrics/metrics.service.js';
import { parseSubtaskWireId } from '../persistence/step-keys.js';

/**
 * Ids of the form `<uuid>:<attempt>` are the orchestrator's own: one attempt of a sub-task, and the
 * child workflow a `workflow:` step runs under it. Clients never name them, so that none can stand
 * in for a step, cancel or restart a child behind its parent's back, or be told about one as if it
 * were its own.
 */
export function isInternalTaskId(taskId: string): boolean {
  return parseSubtaskWireId(taskId) !== null;
}

export const INTERNAL_ID_REFUSED = "task_id: ids of the form <uuid>:<attempt> are the orchestrator's own sub-tasks; use the task_id of a task you submitted";

/**
 * The `task_id` of a control request (`{ "task_id": ... }`: cancel, retry, rerun), or the error
 * naming the field; an orchestrator's own id is refused and counted
 * (`orchestrator_requests_refused_total{reason="internal_id"}`), but from an orchestrator (`internal`).
 */
export function taskIdOf(body: unknown, metrics: MetricsService, internal = false): { ok: true; taskId: string } | { ok: false; error: string } {
  const taskId = isPlainObject(body) ? body['task_id'] : undefined;
  if (typeof taskId !== 'string' || !TASK_ID_PATTERN.test(taskId)) {
    return { ok: false, error: 'task_id: is required: a string of 1 to 128 characters without whitespace' };
  }
  if (isInternalTaskId(taskId) && !internal) {
    metrics.requestsRefused.inc({ reason: 'internal_id' });
    return { ok: false, error: INTERNAL_ID_REFUSED };
  }
  return { ok: true, taskId };
}

/** What every control request (cancel, retry, rerun) may come to besides its own outcomes. */
export type ControlMiss = { kind: 'rejected'; error: string } | { kind: 'unknown'; taskId: string };

export function isControlMiss(outcome: { kind: string }): outcome is ControlMiss {
  return outcome.kind === 'rejected' || outcome.kind === 'unknown';
}
