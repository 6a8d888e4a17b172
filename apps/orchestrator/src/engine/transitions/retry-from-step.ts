import { TaskStatus } from '@orchestrator/contracts';
import { retiredKey } from '../../persistence/step-keys.js';
import { newStepRow, type TaskRow } from '../../persistence/task-rows.js';
import type { Plan } from '../../planning/plan.js';
import { hasBeenScheduled } from '../decide.js';
import type { Workflow } from '../workflow.js';

/** Where a retry starts again: a step of the plan, and the input to send it instead of the one it had. */
export interface RetryFrom {
  step: string;
  input?: Record<string, unknown>;
}

/** What a retry from a step prepared: the steps it runs again, and the one to send now with its given input. */
export type FromStep =
  | { kind: 'prepared'; steps: string[]; sendNow: TaskRow | null }
  /** The request does not fit this workflow (HTTP 400). */
  | { kind: 'invalid'; reason: string }
  /** It fits, but not in this state (HTTP 409). */
  | { kind: 'refused'; reason: string };

/** A step and every step that depends on it, directly or not, in plan order. */
export function downstreamOf(plan: Plan, stepId: string): string[] {
  const chosen = new Set([stepId]);
  // Until nothing is added: a plan may list a step before what it depends on.
  for (let size = 0; size !== chosen.size; ) {
    size = chosen.size;
    for (const step of plan.steps) if (step.depends_on.some((dep) => chosen.has(dep))) chosen.add(step.id);
  }
  return plan.steps.filter((step) => chosen.has(step.id)).map((step) => step.id);
}

/** Why the workflow cannot run again from `from.step` with `from.input`, or null: nothing is changed. */
export function fromStepProblem(wf: Workflow, from: RetryFrom): Exclude<FromStep, { kind: 'prepared' }> | null {
  const planned = wf.plan.steps.find((step) => step.id === from.step);
  if (!planned) return { kind: 'invalid', reason: `from_step: task ${wf.root.task_id} has no step "${from.step}" (its steps: ${wf.plan.steps.map((s) => s.id).join(', ')})` };
  const row = wf.steps.get(planned.id);
  if (!row) throw new Error(`workflow ${wf.root.task_id} has no row for step "${planned.id}"`);
  if (from.input !== undefined) {
    if (planned.for_each !== undefined) return { kind: 'invalid', reason: `input: step "${planned.id}" is a for_each step: the inputs of its items are built from its list` };
    if (row.attempts === 0) return { kind: 'invalid', reason: `input: step "${planned.id}" was never sent, so it has no input to replace; retry from it without input` };
    const waiting = planned.depends_on.filter((dep) => wf.steps.get(dep)?.status !== TaskStatus.Completed);
    if (waiting.length > 0) {
      return { kind: 'refused', reason: `input: step "${planned.id}" depends on ${waiting.map((dep) => `"${dep}"`).join(', ')}, which did not complete; retry from there` };
    }
  }
  return null;
}

/**
 * Makes a finished workflow ready to run `from.step` and everything downstream of it again; the
 * steps upstream keep their results. Each of those steps that ran (or was settled) gets a fresh
 * row, its old one (items included) retired for the record as `<step>@<ms>`: a fresh row has a
 * new id, so no late answer to an old attempt counts and no replica's cached result of it is
 * read. The step with a given input keeps counting its attempts (its row is sent at once, and any
 * retry of it sends the input stored with it); the others start again as new steps.
 */
export function prepareFromStep(wf: Workflow, from: RetryFrom): FromStep {
  const problem = fromStepProblem(wf, from);
  if (problem) return problem;
  const planned = wf.plan.steps.find((step) => step.id === from.step);
  if (!planned) throw new Error(`workflow ${wf.root.task_id} has no step "${from.step}"`);
  const steps = downstreamOf(wf.plan, planned.id);
  const mark = wf.now.getTime();
  const retired: string[] = [];
  let sendNow: TaskRow | null = null;
  for (const id of steps) {
    const old = wf.steps.get(id);
    const step = wf.plan.steps.find((s) => s.id === id);
    if (!old || !step) continue;
    const edited = id === planned.id && from.input !== undefined;
    // Never scheduled: it runs when its turn comes, as it is.
    if (!edited && old.status === TaskStatus.Pending && !hasBeenScheduled(old)) continue;
    retired.push(id);
    const fresh = newStepRow(step, id, wf.root.id, wf.root.id, wf.root.priority, edited ? from.input : {});
    if (edited) {
      fresh.attempts = old.attempts;
      fresh.max_attempts = old.attempts + step.max_attempts;
    }
    const [added] = wf.add([fresh]);
    if (edited && added) sendNow = added;
  }
  if (retired.length > 0) wf.retire(retired, retiredKey('', mark));
  wf.dropContext();
  return { kind: 'prepared', steps, sendNow };
}
