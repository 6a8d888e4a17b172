import type { Budget, TaskPriority, TaskRequest } from '@orchestrator/contracts';

/** A TaskRequest as a client writes it: defaults left out, the priority in any case. */
export interface SubmitTaskInput {
  task_id: string;
  task_type: string;
  payload?: TaskRequest['payload'];
  priority?: TaskPriority | `${TaskPriority}` | Lowercase<`${TaskPriority}`>;
  requester_id?: string;
  created_at?: number;
  /** The whole task must finish within this time (100 to 86,400,000 ms), or it fails. */
  timeout_ms?: number;
  /** What the whole task may spend (`max_tokens`, `max_cost`), within the orchestrator's BUDGET_MAX_TOKENS / BUDGET_MAX_COST. */
  budget?: Budget;
  /** Store the task now (PENDING) and start it at this time, in seconds since the epoch. */
  not_before?: number;
}
