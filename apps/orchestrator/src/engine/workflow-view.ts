import { TaskStatus, type TaskProgressView } from '@orchestrator/contracts';
import { tallySteps } from '../persistence/step-tally.js';
import type { TaskRow } from '../persistence/task-rows.js';
import type { Expressions } from '../planning/expressions.js';
import type { TemplateContext } from '../planning/template.js';
import type { Workflow } from './workflow.js';

/**
 * What a workflow's data looks like to its templates and to its requester: the request and the
 * results of the steps of its current plan that completed (a `for_each` step's result holds its
 * items'). Results are read when first needed, and once per transition.
 */
export function templateContext(wf: Workflow): Promise<TemplateContext> {
  return wf.templateContext(async () => {
    const completed = [...wf.steps.entries()].filter(([, row]) => row.status === TaskStatus.Completed);
    const [payload, results] = await Promise.all([
      wf.reads.requestPayload(wf.root.id),
      Promise.all(completed.map(([, row]) => resultOf(wf, row))),
    ]);
    const steps: TemplateContext['steps'] = {};
    completed.forEach(([key], i) => (steps[key] = { result: results[i] ?? null }));
    return { request: { task_id: wf.root.task_id, task_type: wf.root.task_type, priority: wf.root.priority, payload }, steps };
  });
}

function resultOf(wf: Workflow, row: TaskRow): Promise<Record<string, unknown> | null> {
  return row.result !== undefined ? Promise.resolve(row.result) : wf.reads.result(row.id);
}

/** Every completed step's result by step id. */
export async function stepResults(wf: Workflow): Promise<Record<string, unknown>> {
  const context = await templateContext(wf);
  return Object.fromEntries(Object.entries(context.steps).map(([key, { result }]) => [key, result]));
}

/** `{ output, steps }`: the workflow's declared output and every step's result. Throws when the output cannot be built. */
export async function finalResult(wf: Workflow, expressions: Expressions): Promise<{ output: unknown; steps: Record<string, unknown> }> {
  const context = await templateContext(wf);
  const output = wf.plan.output === null ? null : await expressions.resolve(wf.plan.output, context);
  return { output, steps: await stepResults(wf) };
}

/** What completed before a workflow failed or was cancelled, and the step that failed it. */
export async function partialResult(wf: Workflow, failed?: TaskRow): Promise<Record<string, unknown>> {
  return {
    steps: await stepResults(wf),
    ...(failed ? { failed_step: failed.step_key, failed_agent: failed.agent_name } : {}),
  };
}

/** The steps of the current plan by how they ended: what a progress event reports. */
export function progressOf(wf: Workflow): TaskProgressView {
  return tallySteps(wf.steps.values());
}
