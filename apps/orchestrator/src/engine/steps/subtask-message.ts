import { ORCHESTRATOR_AGENT_NAME, type TaskPriority, type TaskRequest } from '@orchestrator/contracts';
import { subtaskWireId } from '../../persistence/step-keys.js';
import type { RootRow } from '../../persistence/task-rows.js';
import { childTraceparent } from '../../tracing/trace-context.js';
import { encodeJson } from '../../transport/message-publisher.js';
import type { Dispatch } from '../effects.js';
import { budgetLeft } from '../usage-ledger.js';

/** One attempt of a row, as its sub-task message says it: everything it is built from is stored with the row and its root. */
export interface SubtaskAttempt {
  rowId: string;
  attempt: number;
  taskType: string;
  /** The row's input: stored at a step's first attempt, at an item's expansion. */
  input: Record<string, unknown>;
  priority: TaskPriority;
  stepKey: string;
  at: Date;
}

/** The workflow a sub-task belongs to, as its message and headers name it. */
export type SubtaskRoot = Pick<RootRow, 'task_id' | 'depth' | 'trace_parent' | 'fairness_key' | 'requester_id' | 'budget' | 'usage'>;

/**
 * The sub-task's TaskRequest as JSON bytes (measured against the server's limit before it is
 * sent), and its wire id. One that starts a child workflow (`toWorkflow`) carries what is left of
 * its parent's budget: the child may spend that.
 */
export function subtaskRequest(attempt: SubtaskAttempt, root: SubtaskRoot, toWorkflow: boolean): { subtaskId: string; data: Uint8Array } {
  const subtaskId = subtaskWireId(attempt.rowId, attempt.attempt);
  const request: TaskRequest = {
    task_id: subtaskId,
    task_type: attempt.taskType,
    payload: attempt.input,
    priority: attempt.priority,
    requester_id: ORCHESTRATOR_AGENT_NAME,
    created_at: attempt.at.getTime() / 1000,
  };
  const budget = toWorkflow ? budgetLeft(root) : undefined;
  if (budget) request.budget = budget;
  return { subtaskId, data: encodeJson(request) };
}

/** The message to publish for an attempt sent to `agent`: the same whether it goes first or again. */
export function subtaskDispatch(
  agent: string,
  attempt: SubtaskAttempt,
  root: SubtaskRoot,
  request = subtaskRequest(attempt, root, agent === ORCHESTRATOR_AGENT_NAME),
): Dispatch {
  return {
    agent,
    data: request.data,
    subtaskId: request.subtaskId,
    rowId: attempt.rowId,
    attempt: attempt.attempt,
    rootTaskId: root.task_id,
    stepKey: attempt.stepKey,
    depth: agent === ORCHESTRATOR_AGENT_NAME ? root.depth + 1 : null,
    fairnessKey: fairnessKeyOf(root),
    traceparent: childTraceparent(root.trace_parent, `dispatch ${attempt.stepKey}`),
  };
}

/** Whose turn a workflow's steps take when agents are busy: its own key, else its requester. */
export function fairnessKeyOf(root: Pick<RootRow, 'fairness_key' | 'requester_id'>): string {
  return root.fairness_key ?? root.requester_id ?? '';
}
