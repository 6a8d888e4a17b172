import { describe, expect, it } from 'vitest';
import { parseWorkflowDefinition } from './workflow-definition.js';

const step = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  agent: 'worker',
  task_type: 'work',
  ...extra,
});

function problemsOf(raw: Record<string, unknown>): string[] {
  return parseWorkflowDefinition({ task_type: 'flow', version: 1, ...raw }, 'flow.yaml', 'flow').problems;
}

describe('parseWorkflowDefinition', () => {
  it('reads a valid definition with its defaults', () => {
    const { definition, problems } = parseWorkflowDefinition(
      {
        task_type: 'flow',
        version: 2,
        payload: { text: { type: 'string', required: true, max_length: 10 } },
        defaults: { timeout_ms: 1000, max_attempts: 2, backoff: { initial_ms: 10, max_ms: 100 } },
        steps: [step('a', { input: { text: { $ref: 'request.payload.text' } } }), step('b', { depends_on: ['a'], input: { $ref: 'steps.a.result' } })],
        output: { b: { $ref: 'steps.b.result.value', default: null } },
      },
      'flow.yaml',
      'flow',
    );
    expect(problems).toEqual([]);
    expect(definition).toMatchObject({
      task_type: 'flow',
      version: 2,
      payload: { text: { type: 'string', required: true, max_length: 10 } },
      defaults: { timeout_ms: 1000, max_attempts: 2, backoff: { initial_ms: 10, max_ms: 100 } },
      steps: [{ id: 'a', depends_on: [], fallbacks: [], optional: false }, { id: 'b', depends_on: ['a'] }],
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown top-level field', { steps: [step('a')], retries: 3 }, 'flow.yaml: unknown field "retries"'],
    ['an unknown step field', { steps: [step('a', { agnet: 'x' })] }, 'flow.yaml: steps[0] (a): unknown field "agnet"'],
    ['no steps', { steps: [] }, 'flow.yaml: steps: must be a non-empty list'],
    ['too many steps', { steps: Array.from({ length: 101 }, (_, i) => step(`s${i}`)) }, 'has 101 steps; at most 100 are allowed'],
    ['a duplicate step id', { steps: [step('a'), step('a')] }, 'steps (a): duplicate step id'],
    ['an unknown dependency', { steps: [step('a', { depends_on: ['drft'] })] }, 'steps (a): depends_on names unknown step "drft"'],
    ['a self dependency', { steps: [step('a', { depends_on: ['a'] })] }, 'steps (a): depends_on names the step itself'],
    ['a cycle', { steps: [step('a', { depends_on: ['c'] }), step('b', { depends_on: ['a'] }), step('c', { depends_on: ['b'] })] }, 'depends_on forms a cycle: a -> c -> b -> a'],
    ['a hostile agent name', { steps: [step('a', { agent: 'a.>' })] }, 'steps[0] (a): agent "a.>" is not an agent name'],
    ['a hostile fallback', { steps: [step('a', { fallbacks: ['x*'] })] }, 'steps[0] (a).fallbacks: "x*" is not an agent name'],
    ['a bad task type', { steps: [step('a', { task_type: 'Work Now' })] }, 'steps[0] (a): task_type must match'],
    ['a timeout out of range', { steps: [step('a', { timeout_ms: 5 })] }, 'steps[0] (a).timeout_ms: must be an integer from 100 to 86400000'],
    ['attempts out of range', { steps: [step('a', { max_attempts: 0 })] }, 'steps[0] (a).max_attempts: must be an integer from 1 to 100'],
    ['a backoff that shrinks', { defaults: { backoff: { initial_ms: 10, max_ms: 1 } }, steps: [step('a')] }, 'defaults.backoff: initial_ms must not exceed max_ms'],
    ['a reference to a step that has not run', { steps: [step('a', { input: { x: { $ref: 'steps.b.result' } } }), step('b')] }, 'step "b" is not a prerequisite'],
    ['a reference to a missing step', { steps: [step('a', { input: { $ref: 'steps.zz.result' } })] }, '$ref steps.zz.result: no step "zz"'],
    ['a reference outside request and steps', { steps: [step('a', { input: { $ref: 'process.env' } })] }, 'must start with request. or steps.'],
    ['a reference with extra keys', { steps: [step('a', { input: { $ref: 'request.payload', eval: '1' } })] }, 'unknown field "eval" in a $ref'],
    ['a payload field of unknown type', { payload: { x: { type: 'date' } }, steps: [step('a')] }, 'payload.x.type: must be one of string, number'],
  ])('reports %s', (_name, raw, message) => {
    expect(problemsOf(raw).join('\n')).toContain(message);
  });

  it('reads a sub-workflow step as a sub-task to the orchestrator itself', () => {
    const { definition } = parseWorkflowDefinition({ task_type: 'flow', version: 1, steps: [{ id: 'inner', workflow: 'other_flow' }] }, 'flow.yaml', 'flow');
    expect(definition?.steps[0]).toMatchObject({ agent: 'orchestrator_agent', task_type: 'other_flow', capability: null });
    expect(problemsOf({ steps: [{ id: 'inner', workflow: 'other', agent: 'x' }] }).join('\n')).toContain('a step with a workflow names no agent, capability or task_type');
  });

  it('requires task_type to match the file name', () => {
    expect(parseWorkflowDefinition({ task_type: 'other', version: 1, steps: [step('a')] }, 'flow.yaml', 'flow').problems).toEqual([
      'flow.yaml: task_type: "other" must equal the file name "flow"',
    ]);
  });
});
