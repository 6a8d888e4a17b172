import type { Budget } from '@orchestrator/contracts';
import type { ConcurrencyPolicy } from './policies.js';
import type { BackoffPolicy, ReplanPolicy, StepDefinition } from './workflow-definition.js';

/** A step as it runs: the definition with every default resolved. */
export interface PlannedStep extends Omit<StepDefinition, 'timeout_ms' | 'max_attempts' | 'backoff' | 'description'> {
  timeout_ms: number;
  max_attempts: number;
  backoff: BackoffPolicy;
}

/** The snapshot stored with a workflow when it starts. JSON only. */
export interface Plan {
  task_type: string;
  version: number;
  steps: PlannedStep[];
  output: unknown;
  timeout_ms: number | null;
  /** 1 for the plan a workflow starts with, one more for each revision by the planner (absent in plans stored before revisions). */
  revision?: number;
  replan?: ReplanPolicy | null;
  /** The CEL expression over the request that gives the key its steps take turns by; null: the requester. */
  fairness_key?: string | null;
  /** At most this many runs per key at once (absent in plans stored before concurrency keys). */
  concurrency?: ConcurrencyPolicy | null;
  /** The file's budget, or a dynamic plan's default (a request's own lowers it on the root row). */
  budget?: Budget | null;
  /** A plan made by the planner agent: the most sub-tasks it may send (steps × for_each items × attempts), checked as its lists expand. */
  max_subtasks?: number;
}

/** A plan a workflow ran until a step failed for good and the planner revised it. */
export interface ReplacedPlan {
  plan: Plan;
  failed_step: string;
  error: string;
  replaced_at: string;
}

/** Steps not yet started whose prerequisites are all complete, in plan order. */
export function readySteps(plan: Plan, completed: ReadonlySet<string>, started: ReadonlySet<string>): PlannedStep[] {
  return plan.steps.filter((step) => !started.has(step.id) && step.depends_on.every((dep) => completed.has(dep)));
}
