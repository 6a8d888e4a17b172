import type { WorkflowSummaryView } from '@orchestrator/contracts';
import type { Colors } from '../output.js';
import { alignColumns, type Cell } from './table.js';

type GraphStep = WorkflowSummaryView['steps'][number];

/** The steps by stage: a step's stage is one more than its latest prerequisite's, so the steps of a stage may run side by side. */
export function stages(steps: readonly GraphStep[]): GraphStep[][] {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const stageOf = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (step: GraphStep): number => {
    const known = stageOf.get(step.id);
    if (known !== undefined) return known;
    // The orchestrator refuses cyclic workflows; a cycle here would be a broken answer, not a graph.
    if (visiting.has(step.id)) throw new Error(`the steps depend on each other in a cycle through "${step.id}"`);
    visiting.add(step.id);
    const prerequisites = step.depends_on.map((id) => byId.get(id)).filter((s): s is GraphStep => s !== undefined);
    const stage = prerequisites.length === 0 ? 0 : Math.max(...prerequisites.map(visit)) + 1;
    visiting.delete(step.id);
    stageOf.set(step.id, stage);
    return stage;
  };
  const result: GraphStep[][] = [];
  for (const step of steps) (result[visit(step)] ??= []).push(step);
  return result;
}

/** Who does a step: its agent, its capability, or both. */
function performer(step: GraphStep): string {
  if (step.agent && step.capability) return `${step.agent} (${step.capability})`;
  return step.agent ?? (step.capability ? `any agent offering ${step.capability}` : '-');
}

/**
 * `orchestrator workflows graph <type>`: the workflow's DAG as text, stage by stage; each step with
 * who runs it, its task type and the steps it waits for (`<-`), and at the end the steps nothing
 * waits for (the last to finish).
 */
export function renderWorkflowGraph(workflow: WorkflowSummaryView, colors: Colors): string[] {
  const title = `${colors.bold(workflow.task_type)} v${workflow.version}`;
  if (workflow.plan === 'dynamic') {
    return [`${title}: planned at run time by the planner agent, one plan per request (no fixed graph)`, ...(workflow.description ? [colors.dim(workflow.description)] : [])];
  }
  const byStage = stages(workflow.steps);
  const lines = [`${title}: ${workflow.steps.length} steps in ${byStage.length} stages`];
  if (workflow.description) lines.push(colors.dim(workflow.description));
  const rows: Cell[][] = [];
  const stageRows = new Map<number, string>();
  byStage.forEach((steps, index) => {
    stageRows.set(rows.length, `stage ${index + 1}${steps.length > 1 ? ` (${steps.length} in parallel)` : ''}`);
    for (const step of steps) {
      rows.push([`  ${step.id}`, performer(step), step.task_type, { text: step.depends_on.length > 0 ? `<- ${step.depends_on.join(', ')}` : '', style: colors.dim }]);
    }
  });
  alignColumns(rows).forEach((line, i) => {
    const stage = stageRows.get(i);
    if (stage !== undefined) lines.push(colors.cyan(stage));
    lines.push(line);
  });
  const needed = new Set(workflow.steps.flatMap((step) => step.depends_on));
  const ends = workflow.steps.filter((step) => !needed.has(step.id)).map((step) => step.id);
  lines.push(colors.dim(`ends with: ${ends.join(', ')}`));
  return lines;
}

/** The same graph for `--json`: the stages and the edges (prerequisite, then dependent). */
export function workflowGraphJson(workflow: WorkflowSummaryView): Record<string, unknown> {
  return {
    task_type: workflow.task_type,
    version: workflow.version,
    plan: workflow.plan,
    steps: workflow.steps,
    stages: workflow.plan === 'dynamic' ? [] : stages(workflow.steps).map((steps) => steps.map((step) => step.id)),
    edges: workflow.steps.flatMap((step) => step.depends_on.map((from) => [from, step.id])),
  };
}
