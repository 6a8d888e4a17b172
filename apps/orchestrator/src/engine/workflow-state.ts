import { TaskStatus } from '@orchestrator/contracts';
import { readySteps, type Plan } from '../planning/plan.js';
import type { TaskEntity } from '../persistence/task.entity.js';

export type WorkflowOutcome =
  | { kind: 'running' }
  | { kind: 'completed' }
  | { kind: 'failed'; step: TaskEntity };

export interface WorkflowDecision {
  /** Steps whose prerequisites are all settled and that have never been scheduled. */
  ready: TaskEntity[];
  outcome: WorkflowOutcome;
}

/** A step counts as settled for its dependents when it completed, or failed while optional. */
export function isSettled(step: TaskEntity, optional: boolean): boolean {
  return step.status === TaskStatus.Completed || (optional && step.status === TaskStatus.Failed);
}

export function hasBeenScheduled(step: TaskEntity): boolean {
  return step.status !== TaskStatus.Pending || step.attempts > 0 || step.next_attempt_at !== null;
}

/** What a workflow needs next, from its plan and the current state of its steps. Pure. */
export function decide(plan: Plan, steps: readonly TaskEntity[]): WorkflowDecision {
  const byKey = new Map(steps.map((step) => [step.step_key ?? '', step]));
  const settled = new Set<string>();
  const scheduled = new Set<string>();
  let allTerminal = true;
  for (const planned of plan.steps) {
    const step = byKey.get(planned.id);
    if (!step) throw new Error(`workflow state has no row for step "${planned.id}"`);
    if (step.status === TaskStatus.Failed && !planned.optional) {
      return { ready: [], outcome: { kind: 'failed', step } };
    }
    if (isSettled(step, planned.optional)) settled.add(planned.id);
    else allTerminal = false;
    if (hasBeenScheduled(step)) scheduled.add(planned.id);
  }
  if (allTerminal) return { ready: [], outcome: { kind: 'completed' } };
  const ready = readySteps(plan, settled, scheduled).map((planned) => byKey.get(planned.id) as TaskEntity);
  return { ready, outcome: { kind: 'running' } };
}

export function countProgress(steps: readonly TaskEntity[]): { done: number; total: number } {
  const done = steps.filter((s) => s.status === TaskStatus.Completed || s.status === TaskStatus.Failed || s.status === TaskStatus.Cancelled).length;
  return { done, total: steps.length };
}

/** "after N attempts", for messages about a row that was sent to agents. */
export function attemptsText(attempts: number): string {
  return attempts === 1 ? 'after 1 attempt' : `after ${attempts} attempts`;
}

/** The row of one item of a `for_each` step is keyed `<step id>[<index>]`. */
export function itemKey(stepId: string, index: number): string {
  return `${stepId}[${index}]`;
}

/** The plan step a row belongs to: its own key, or for an item the key of its `for_each` step. */
export function planKey(stepKey: string): string {
  const bracket = stepKey.indexOf('[');
  return bracket < 0 ? stepKey : stepKey.slice(0, bracket);
}

/** The position of an item in its list; -1 for a row that is not an item. */
export function itemIndex(stepKey: string): number {
  const match = /\[(\d+)\]/.exec(stepKey);
  return match ? Number(match[1]) : -1;
}

/** The wire id of one attempt of a sub-task: `<row id>:<attempt>`. */
export function subtaskWireId(stepId: string, attempt: number): string {
  return `${stepId}:${attempt}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function parseSubtaskWireId(wireId: string): { stepId: string; attempt: number } | null {
  const separator = wireId.lastIndexOf(':');
  if (separator < 0) return null;
  const stepId = wireId.slice(0, separator);
  const attempt = Number(wireId.slice(separator + 1));
  if (!UUID.test(stepId) || !Number.isSafeInteger(attempt) || attempt < 1) return null;
  return { stepId, attempt };
}
