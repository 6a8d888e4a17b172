import { walkGraph, type GraphWalk } from './graph.js';
import type { StepDefinition, WorkflowDefinition } from './workflow-definition.js';

/**
 * How deep a workflow goes when it runs, counting itself (1: it runs no other workflow; 2: it runs
 * one that runs none; …), and the chain of workflows that deep, itself first. A workflow with
 * `plan: dynamic` counts 1: what its plans run is checked when the planner gives them.
 */
export interface Nesting {
  depth: number;
  chain: readonly string[];
}

/** Where the nesting of each loaded workflow is found: the WorkflowCatalog. */
export interface NestingLookup {
  nesting(taskType: string): Nesting | undefined;
}

const SETTING = 'MAX_WORKFLOW_DEPTH';
const notDefined = (taskType: string): string => `workflow "${taskType}" is not defined (no workflow file has that task_type)`;

/** The workflows a definition runs by its `workflow:` steps, other than itself, in step order. */
function callees(definition: WorkflowDefinition): string[] {
  return definition.steps.flatMap((step) => (step.workflow === undefined || step.workflow === definition.task_type ? [] : [step.workflow]));
}

/** Walks the calls between loaded workflows; a call to a workflow not loaded is not followed. */
function walkCalls(definitions: readonly WorkflowDefinition[]): GraphWalk {
  const byTaskType = new Map(definitions.map((definition) => [definition.task_type, definition]));
  return walkGraph(byTaskType.keys(), (taskType) => {
    const definition = byTaskType.get(taskType);
    return definition ? callees(definition).filter((callee) => byTaskType.has(callee)) : [];
  });
}

/** The nesting of each workflow of a set whose calls form no cycle (checkWorkflowGraph has passed). */
export function workflowNesting(definitions: readonly WorkflowDefinition[]): Map<string, Nesting> {
  const { longest } = walkCalls(definitions);
  return new Map(
    definitions.map((definition) => {
      const chain = longest.get(definition.task_type) ?? [definition.task_type];
      return [definition.task_type, { depth: chain.length, chain }];
    }),
  );
}

/**
 * Every problem of the way a set of workflows run one another, each naming the file and, where it
 * is one step's, the step: a `workflow:` naming no workflow of the set, a workflow running itself,
 * workflows running each other in a cycle, and a workflow nesting deeper than `maxDepth`.
 */
export function checkWorkflowGraph(definitions: readonly WorkflowDefinition[], maxDepth: number): string[] {
  const byTaskType = new Map(definitions.map((definition) => [definition.task_type, definition]));
  const place = (definition: WorkflowDefinition, index: number): string => `${definition.source}: steps[${index}] (${definition.steps[index]?.id ?? ''})`;
  const problems: string[] = [];
  for (const definition of definitions) {
    definition.steps.forEach((step, index) => {
      if (step.workflow === definition.task_type) problems.push(`${place(definition, index)}: workflow "${step.workflow}" calls itself`);
      else if (step.workflow !== undefined && !byTaskType.has(step.workflow)) {
        problems.push(`${place(definition, index)}: ${notDefined(step.workflow)}`);
      }
    });
  }
  const { longest, cycles } = walkCalls(definitions);
  for (const cycle of cycles) {
    const calls = cycle.slice(1).map((callee, i) => {
      const caller = byTaskType.get(cycle[i] ?? '');
      return caller ? place(caller, caller.steps.findIndex((step) => step.workflow === callee)) : '';
    });
    problems.push(`workflows call each other in a cycle: ${cycle.join(' -> ')} (${calls.join('; ')})`);
  }
  // The depth of a workflow on a cycle means nothing until the cycle is gone.
  if (cycles.length > 0) return problems;
  for (const definition of definitions) {
    const chain = longest.get(definition.task_type) ?? [];
    if (chain.length > maxDepth) {
      problems.push(`${definition.source}: workflows nest ${chain.length} deep: ${chain.join(' -> ')}; at most ${maxDepth} are allowed (${SETTING})`);
    }
  }
  return problems;
}

/**
 * What keeps the `workflow:` steps of a plan from running when the plan runs at `depth` (1 for a
 * request from outside, one more for each workflow it runs within): a workflow that is not loaded,
 * or one whose own nesting would take the chain deeper than `maxDepth`. Empty when it may run.
 */
export function checkWorkflowCalls(
  steps: readonly Pick<StepDefinition, 'id' | 'workflow'>[],
  depth: number,
  catalog: NestingLookup,
  maxDepth: number,
): string[] {
  if (depth > maxDepth) return [`runs ${depth} workflows deep; at most ${maxDepth} are allowed (${SETTING})`];
  const problems: string[] = [];
  for (const step of steps) {
    if (step.workflow === undefined) continue;
    const nesting = catalog.nesting(step.workflow);
    if (!nesting) problems.push(`step ${step.id}: ${notDefined(step.workflow)}`);
    else if (depth + nesting.depth > maxDepth) {
      problems.push(
        `step ${step.id}: workflow "${step.workflow}" nests ${nesting.depth} deep (${nesting.chain.join(' -> ')}): ` +
          `${depth + nesting.depth} deep in all from this plan at depth ${depth}; at most ${maxDepth} are allowed (${SETTING})`,
      );
    }
  }
  return problems;
}
