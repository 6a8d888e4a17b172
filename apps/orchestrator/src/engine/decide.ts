import { TaskStatus } from '@orchestrator/contracts';
import type { TaskRow } from '../persistence/task-rows.js';
import { readySteps, type Plan } from '../planning/plan.js';

export type WorkflowOutcome =
  | { kind: 'running' }
  | { kind: 'completed' }
  | { kind: 'failed'; step: TaskRow };

export interface WorkflowDecision {
  /** Steps whose prerequisites are all settled and that have never been scheduled. */
  ready: TaskRow[];
  outcome: WorkflowOutcome;
}

/** A step counts as settled for its dependents when it completed, or failed while optional. */
export function isSettled(step: TaskRow, optional: boolean): boolean {
  return step.status === TaskStatus.Completed || (optional && step.status === TaskStatus.Failed);
}

/** Started: sent, or due to be (a retry), or waiting in line for an agent. */
export function hasBeenScheduled(step: TaskRow): boolean {
  return step.status !== TaskStatus.Pending || step.attempts > 0 || step.next_attempt_at !== null || step.waiting_on !== null;
}

/** What a workflow needs next, from its plan and the rows of its steps (by step id). Pure. */
export function decide(plan: Plan, steps: ReadonlyMap<string, TaskRow>): WorkflowDecision {
  const settled = new Set<string>();
  const scheduled = new Set<string>();
  let allSettled = true;
  for (const planned of plan.steps) {
    const step = steps.get(planned.id);
    if (!step) throw new Error(`workflow state has no row for step "${planned.id}"`);
    if (step.status === TaskStatus.Failed && !planned.optional) return { ready: [], outcome: { kind: 'failed', step } };
    if (isSettled(step, planned.optional)) settled.add(planned.id);
    else allSettled = false;
    if (hasBeenScheduled(step)) scheduled.add(planned.id);
  }
  if (allSettled) return { ready: [], outcome: { kind: 'completed' } };
  const ready = readySteps(plan, settled, scheduled).map((planned) => steps.get(planned.id) as TaskRow);
  return { ready, outcome: { kind: 'running' } };
}

/** "after N attempts", for messages about a row that was sent to agents. */
export function attemptsText(attempts: number): string {
  return attempts === 1 ? 'after 1 attempt' : `after ${attempts} attempts`;
}
