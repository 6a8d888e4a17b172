import { subtaskCount } from '../../planning/policies.js';
import type { Workflow } from '../workflow.js';

/**
 * The bound on a planner's plan, as its lists expand: each step's items (as expanded so far, 1
 * before) times its attempts, summed; the reason to stop when that passes the plan's
 * `max_subtasks`, else null.
 */
export function subtasksOverBound(wf: Workflow): string | null {
  const max = wf.plan.max_subtasks;
  if (max === undefined) return null;
  const count = subtaskCount(wf.plan.steps.map((planned) => ({ max_attempts: planned.max_attempts, items: wf.steps.get(planned.id)?.item_count ?? 1 })));
  return count > max ? `plan: sends up to ${count} sub-tasks (steps × for_each items × attempts); at most ${max} are allowed (PLAN_MAX_SUBTASKS)` : null;
}
