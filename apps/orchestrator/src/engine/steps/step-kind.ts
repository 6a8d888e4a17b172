import type { TaskRow } from '../../persistence/task-rows.js';
import type { PlannedStep } from '../../planning/plan.js';
import type { Workflow } from '../workflow.js';

/**
 * What a step's kind made of it: started (sent, or waiting), completed with a result, failed for
 * good, or an attempt that failed (tried again while attempts remain). The engine applies it the
 * same way whatever the kind.
 */
export type StepOutcome =
  | { kind: 'started' }
  | { kind: 'completed'; result: Record<string, unknown> }
  | { kind: 'failed'; error: string }
  | { kind: 'attempt-failed'; error: string };

/**
 * One kind of step: how it starts once its prerequisites are done (and its `when` holds), and what
 * its due time means when the sweeper finds it passed. What completes it otherwise is an event of
 * its own (an agent's answer, a signal, an external event), applied by its transition.
 */
export interface StepKind {
  start(wf: Workflow, row: TaskRow, planned: PlannedStep): Promise<StepOutcome>;
  /** Its row's due time has passed (the sweeper found it): a timeout, the end of a sleep. */
  due(wf: Workflow, row: TaskRow, planned: PlannedStep): Promise<StepOutcome>;
  /** How messages name who does the step: `agent drafting_agent`, `wait_for`, `sleep`. */
  label(row: TaskRow): string;
}

export type StepKindName = 'agent' | 'workflow' | 'wait_for' | 'sleep';

export const STARTED: StepOutcome = { kind: 'started' };

export function kindOf(planned: PlannedStep): StepKindName {
  if (planned.wait_for) return 'wait_for';
  if (planned.sleep) return 'sleep';
  return planned.workflow === undefined ? 'agent' : 'workflow';
}
