import type { TaskDetailView as TaskDetailWireView } from '@orchestrator/contracts';
import type { Plan, ReplacedPlan } from '../planning/plan.js';

export { ListTasksQuery } from './task-search.dto.js';

/** The shapes clients read are the contract's; the plan here is the engine's own, narrower type. */
export type { SubTaskView, TaskListView, TaskSummaryView } from '@orchestrator/contracts';

export interface TaskDetailView extends TaskDetailWireView {
  plan: Plan | null;
  plan_history: ReplacedPlan[];
}
