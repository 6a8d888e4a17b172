import { describe, expect, it } from 'vitest';
import { parseWorkflowDefinition, type WorkflowDefinition } from './workflow-definition.js';
import { checkWorkflowCalls, checkWorkflowGraph, workflowNesting, type Nesting, type NestingLookup } from './workflow-graph.js';

/** A workflow file whose steps run the workflows named, one step each (`run_<name>`); one agent step when none. */
function workflow(taskType: string, ...runs: string[]): WorkflowDefinition {
  const steps = runs.length === 0 ? [{ id: 'work', agent: 'worker', task_type: 'work' }] : runs.map((target) => ({ id: `run_${target}`, workflow: target }));
  return parse({ task_type: taskType, version: 1, steps });
}

function parse(raw: Record<string, unknown>): WorkflowDefinition {
  const taskType = String(raw['task_type']);
  const { definition, problems } = parseWorkflowDefinition(raw, `${taskType}.yaml`, taskType);
  if (!definition) throw new Error(problems.join('\n'));
  return definition;
}

const lookup = (definitions: WorkflowDefinition[]): NestingLookup => {
  const nestings = workflowNesting(definitions);
  return { nesting: (taskType) => nestings.get(taskType) };
};

describe('checkWorkflowGraph', () => {
  it('accepts workflows that run others without a cycle, however they share them', () => {
    const definitions = [workflow('top', 'left', 'right'), workflow('left', 'leaf'), workflow('right', 'leaf'), workflow('leaf')];
    expect(checkWorkflowGraph(definitions, 3)).toEqual([]);
  });

  it('refuses a workflow that runs itself, naming the file and the step', () => {
    expect(checkWorkflowGraph([workflow('loop', 'loop')], 5)).toEqual(['loop.yaml: steps[0] (run_loop): workflow "loop" calls itself']);
  });

  it('refuses workflows that run each other, naming the cycle once with the step of each', () => {
    expect(checkWorkflowGraph([workflow('a', 'b'), workflow('b', 'c'), workflow('c', 'a'), workflow('d', 'a')], 5)).toEqual([
      'workflows call each other in a cycle: a -> b -> c -> a (a.yaml: steps[0] (run_b); b.yaml: steps[0] (run_c); c.yaml: steps[0] (run_a))',
    ]);
    expect(checkWorkflowGraph([workflow('ping', 'pong'), workflow('pong', 'ping')], 5)).toEqual([
      'workflows call each other in a cycle: ping -> pong -> ping (ping.yaml: steps[0] (run_pong); pong.yaml: steps[0] (run_ping))',
    ]);
  });

  it('refuses a workflow step naming a workflow that is not there', () => {
    expect(checkWorkflowGraph([workflow('outer', 'ghost')], 5)).toEqual([
      'outer.yaml: steps[0] (run_ghost): workflow "ghost" is not defined (no workflow file has that task_type)',
    ]);
  });

  it('counts a workflow with plan: dynamic as there, one deep', () => {
    const definitions = [workflow('outer', 'planned'), parse({ task_type: 'planned', version: 1, plan: 'dynamic' })];
    expect(checkWorkflowGraph(definitions, 2)).toEqual([]);
    expect(workflowNesting(definitions).get('outer')).toEqual({ depth: 2, chain: ['outer', 'planned'] });
  });

  it('refuses a chain deeper than the limit, naming it from each workflow that goes too deep', () => {
    const chain = [workflow('w1', 'w2'), workflow('w2', 'w3'), workflow('w3', 'w4'), workflow('w4')];
    expect(checkWorkflowGraph(chain, 4)).toEqual([]);
    expect(checkWorkflowGraph(chain, 2)).toEqual([
      'w1.yaml: workflows nest 4 deep: w1 -> w2 -> w3 -> w4; at most 2 are allowed (MAX_WORKFLOW_DEPTH)',
      'w2.yaml: workflows nest 3 deep: w2 -> w3 -> w4; at most 2 are allowed (MAX_WORKFLOW_DEPTH)',
    ]);
  });
});

describe('workflowNesting', () => {
  it('gives each workflow its depth, counting itself, and its deepest chain', () => {
    const nestings = workflowNesting([workflow('top', 'shallow', 'deep'), workflow('shallow'), workflow('deep', 'shallow')]);
    expect(Object.fromEntries(nestings)).toEqual<Record<string, Nesting>>({
      top: { depth: 3, chain: ['top', 'deep', 'shallow'] },
      shallow: { depth: 1, chain: ['shallow'] },
      deep: { depth: 2, chain: ['deep', 'shallow'] },
    });
  });
});

describe('checkWorkflowCalls', () => {
  const catalog = lookup([workflow('outer', 'middle'), workflow('middle', 'inner'), workflow('inner')]);
  const steps = [{ id: 'prepare' }, { id: 'nested', workflow: 'outer' }];

  it('lets a plan run workflows as deep as the limit, from the depth it runs at', () => {
    expect(checkWorkflowCalls(steps, 1, catalog, 4)).toEqual([]);
    expect(checkWorkflowCalls(steps, 2, catalog, 5)).toEqual([]);
    expect(checkWorkflowCalls([{ id: 'alone' }], 5, catalog, 5)).toEqual([]);
  });

  it('refuses a workflow whose nesting would go past the limit from this depth', () => {
    expect(checkWorkflowCalls(steps, 1, catalog, 3)).toEqual([
      'step nested: workflow "outer" nests 3 deep (outer -> middle -> inner): 4 deep in all from this plan at depth 1; at most 3 are allowed (MAX_WORKFLOW_DEPTH)',
    ]);
    expect(checkWorkflowCalls([{ id: 'leaf', workflow: 'inner' }], 5, catalog, 5)).toEqual([
      'step leaf: workflow "inner" nests 1 deep (inner): 6 deep in all from this plan at depth 5; at most 5 are allowed (MAX_WORKFLOW_DEPTH)',
    ]);
  });

  it('refuses a workflow that is not loaded', () => {
    expect(checkWorkflowCalls([{ id: 'lost', workflow: 'ghost' }], 1, catalog, 5)).toEqual([
      'step lost: workflow "ghost" is not defined (no workflow file has that task_type)',
    ]);
  });

  it('refuses a plan that would itself run deeper than the limit', () => {
    expect(checkWorkflowCalls([{ id: 'alone' }], 6, catalog, 5)).toEqual(['runs 6 workflows deep; at most 5 are allowed (MAX_WORKFLOW_DEPTH)']);
  });
});
