import { describe, expect, it } from 'vitest';
import { parseWorkflowDefinition } from './workflow-definition.js';

const step = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  agent: 'worker',
  task_type: 'work',
  ...extra,
});

function problemsOf(raw: Record<string, unknown>): string[] {
  return parseWorkflowDefinition({ task_type: 'flow', version: 1, ...raw }, 'workflows/flow.yaml', 'flow').problems;
}

describe('parseWorkflowDefinition', () => {
  it('reads a valid definition with its defaults', () => {
    const { definition, problems } = parseWorkflowDefinition(
      {
        task_type: 'flow',
        version: 2,
        description: 'A flow',
        payload: { text: { type: 'string', required: true, max_length: 10 }, n: { type: 'integer' } },
        defaults: { timeout_ms: 1000, max_attempts: 2, backoff: { initial_ms: 10, max_ms: 100 } },
        timeout_ms: 60_000,
        steps: [
          step('a', { input: { text: { $ref: 'request.payload.text' }, id: { $ref: 'request.task_id' } }, fallbacks: ['worker_backup'] }),
          step('b', { depends_on: ['a'], input: { $ref: 'steps.a.result' }, timeout_ms: 500, max_attempts: 7, optional: true }),
        ],
        output: { b: { $ref: 'steps.b.result.value', default: null } },
      },
      'workflows/flow.yaml',
      'flow',
    );
    expect(problems).toEqual([]);
    expect(definition).toEqual({
      task_type: 'flow',
      version: 2,
      description: 'A flow',
      payload: { text: { type: 'string', required: true, max_length: 10 }, n: { type: 'integer', required: false } },
      defaults: { timeout_ms: 1000, max_attempts: 2, backoff: { initial_ms: 10, max_ms: 100 } },
      timeout_ms: 60_000,
      steps: [
        {
          id: 'a',
          agent: 'worker',
          capability: null,
          task_type: 'work',
          depends_on: [],
          input: { text: { $ref: 'request.payload.text' }, id: { $ref: 'request.task_id' } },
          fallbacks: ['worker_backup'],
          optional: false,
        },
        {
          id: 'b',
          agent: 'worker',
          capability: null,
          task_type: 'work',
          depends_on: ['a'],
          input: { $ref: 'steps.a.result' },
          fallbacks: [],
          optional: true,
          timeout_ms: 500,
          max_attempts: 7,
        },
      ],
      output: { b: { $ref: 'steps.b.result.value', default: null } },
      source: 'workflows/flow.yaml',
    });
  });

  it('gives a step without input an empty payload', () => {
    expect(parseWorkflowDefinition({ task_type: 'flow', version: 1, steps: [step('a')] }, 'f', 'flow').definition?.steps[0]?.input).toEqual({});
  });

  it.each<[string, Record<string, unknown>, string]>([
    // strict schema
    ['an unknown top-level field', { steps: [step('a')], retries: 3 }, 'workflows/flow.yaml: unknown field "retries" (allowed: task_type, version'],
    ['an unknown step field', { steps: [step('a', { agnet: 'x' })] }, 'workflows/flow.yaml: steps[0] (a): unknown field "agnet"'],
    ['an unknown defaults field', { defaults: { timeout: 5 }, steps: [step('a')] }, 'workflows/flow.yaml: defaults: unknown field "timeout"'],
    ['an unknown backoff field', { steps: [step('a', { backoff: { initial_ms: 1, max_ms: 2, jitter: true } })] }, 'steps[0] (a).backoff: unknown field "jitter"'],
    ['an unknown payload field key', { payload: { x: { type: 'string', min_length: 1 } }, steps: [step('a')] }, 'workflows/flow.yaml: payload.x: unknown field "min_length"'],
    // missing required fields
    ['no task_type', { task_type: undefined, steps: [step('a')] }, 'workflows/flow.yaml: task_type: is required'],
    ['no version', { version: undefined, steps: [step('a')] }, 'workflows/flow.yaml: version: is required'],
    ['no steps field', {}, 'workflows/flow.yaml: steps: is required'],
    ['a step without id', { steps: [{ agent: 'worker', task_type: 'work' }] }, 'workflows/flow.yaml: steps[0]: id is required'],
    ['a step without agent or capability', { steps: [{ id: 'a', task_type: 'work' }] }, 'steps[0] (a): needs an agent, a capability (or both), a workflow, a wait_for or a sleep'],
    ['a step without task_type', { steps: [{ id: 'a', agent: 'worker' }] }, 'workflows/flow.yaml: steps[0] (a): task_type is required'],
    ['a payload field without type', { payload: { x: { required: true } }, steps: [step('a')] }, 'workflows/flow.yaml: payload.x.type: is required'],
    ['a backoff without max_ms', { defaults: { backoff: { initial_ms: 10 } }, steps: [step('a')] }, 'workflows/flow.yaml: defaults.backoff.max_ms: is required'],
    // wrong types
    ['a version that is not an integer', { version: '1', steps: [step('a')] }, 'workflows/flow.yaml: version: must be an integer from 1 to'],
    ['a version of zero', { version: 0, steps: [step('a')] }, 'workflows/flow.yaml: version: must be an integer from 1 to'],
    ['a description that is not a string', { description: 3, steps: [step('a')] }, 'workflows/flow.yaml: description: must be a string'],
    ['steps that are not a list', { steps: { a: step('a') } }, 'workflows/flow.yaml: steps: must be a list, not a mapping'],
    ['a step that is not an object', { steps: ['a'] }, 'workflows/flow.yaml: steps[0]: must be a mapping, not a string'],
    ['depends_on that is not a list', { steps: [step('a'), step('b', { depends_on: 'a' })] }, 'steps[1] (b).depends_on: must be a list of strings, not a string'],
    ['optional that is not a boolean', { steps: [step('a', { optional: 'yes' })] }, 'steps[0] (a).optional: must be true or false, not a string'],
    ['input that is not a mapping', { steps: [step('a', { input: 'text' })] }, 'steps[0] (a).input: must be a mapping, not a string'],
    ['payload that is not a mapping', { payload: ['topic'], steps: [step('a')] }, 'workflows/flow.yaml: payload: must be a mapping, not a list'],
    ['a payload field of unknown type', { payload: { x: { type: 'date' } }, steps: [step('a')] }, 'payload.x.type: must be one of string, number, integer, boolean, object, array'],
    ['max_length on a number field', { payload: { x: { type: 'number', max_length: 3 } }, steps: [step('a')] }, 'payload.x.max_length: applies to string and array fields only'],
    ['defaults that are not an object', { defaults: 5, steps: [step('a')] }, 'workflows/flow.yaml: defaults: must be a mapping, not an integer'],
    // names
    ['a task_type that is not one', { task_type: 'Flow!', steps: [step('a')] }, 'workflows/flow.yaml: task_type: "Flow!" must match'],
    ['a bad step id', { steps: [step('A-1')] }, 'workflows/flow.yaml: steps[0] (A-1): id "A-1" must match ^[a-z][a-z0-9_]{0,63}$'],
    ['a hostile agent name', { steps: [step('a', { agent: 'a.>' })] }, 'workflows/flow.yaml: steps[0] (a): agent "a.>" is not an agent name'],
    ['a wildcard agent name', { steps: [step('a', { agent: '*' })] }, 'steps[0] (a): agent "*" is not an agent name'],
    ['a hostile fallback', { steps: [step('a', { fallbacks: ['x*'] })] }, 'steps[0] (a).fallbacks[0]: "x*" is not an agent name (must match ^[a-z0-9][a-z0-9_-]{0,63}$)'],
    ['a bad task type', { steps: [step('a', { task_type: 'Work Now' })] }, 'steps[0] (a): task_type "Work Now" must match ^[a-z0-9][a-z0-9_.-]{0,63}$'],
    ['a bad capability', { steps: [{ id: 'a', capability: 'a b' }] }, 'steps[0] (a): capability "a b" must match'],
    // graph
    ['no steps', { steps: [] }, 'workflows/flow.yaml: steps: must be a non-empty list'],
    ['too many steps', { steps: Array.from({ length: 101 }, (_, i) => step(`s${i}`)) }, 'workflows/flow.yaml: steps: has 101 steps; at most 100 are allowed'],
    ['a duplicate step id', { steps: [step('a'), step('a')] }, 'workflows/flow.yaml: steps[1] (a): duplicate step id "a"'],
    ['an unknown dependency', { steps: [step('draft'), step('enhance'), step('review', { depends_on: ['drft'] })] }, 'workflows/flow.yaml: steps[2] (review): depends_on names unknown step "drft"'],
    ['a self dependency', { steps: [step('a', { depends_on: ['a'] })] }, 'workflows/flow.yaml: steps[0] (a): depends_on names the step itself'],
    ['a cycle', { steps: [step('a', { depends_on: ['c'] }), step('b', { depends_on: ['a'] }), step('c', { depends_on: ['b'] })] }, 'workflows/flow.yaml: steps: depends_on forms a cycle: a -> c -> b -> a'],
    // numbers out of range
    ['a timeout too short', { steps: [step('a', { timeout_ms: 99 })] }, 'workflows/flow.yaml: steps[0] (a).timeout_ms: must be an integer from 100 to 86400000'],
    ['a timeout too long', { steps: [step('a', { timeout_ms: 86_400_001 })] }, 'steps[0] (a).timeout_ms: must be an integer from 100 to 86400000'],
    ['a fractional timeout', { defaults: { timeout_ms: 1000.5 }, steps: [step('a')] }, 'defaults.timeout_ms: must be an integer from 100 to 86400000'],
    ['a workflow timeout out of range', { timeout_ms: 50, steps: [step('a')] }, 'workflows/flow.yaml: timeout_ms: must be an integer from 100 to 86400000'],
    ['attempts out of range', { steps: [step('a', { max_attempts: 0 })] }, 'steps[0] (a).max_attempts: must be an integer from 1 to 100'],
    ['too many attempts', { defaults: { max_attempts: 101 }, steps: [step('a')] }, 'defaults.max_attempts: must be an integer from 1 to 100'],
    ['a backoff that shrinks', { defaults: { backoff: { initial_ms: 10, max_ms: 1 } }, steps: [step('a')] }, 'defaults.backoff: initial_ms must not exceed max_ms'],
    ['a negative backoff', { steps: [step('a', { backoff: { initial_ms: -1, max_ms: 1 } })] }, 'steps[0] (a).backoff.initial_ms: must be an integer from 0 to 86400000'],
    // references
    ['a reference to a step that has not run', { steps: [step('a', { input: { x: { $ref: 'steps.b.result' } } }), step('b')] }, 'workflows/flow.yaml: steps[0] (a).input.x: $ref steps.b.result: step "b" is not a prerequisite (add it to depends_on)'],
    ['a reference to a sibling in parallel', { steps: [step('a'), step('b', { depends_on: ['a'] }), step('c', { depends_on: ['a'], input: { x: { $ref: 'steps.b.result' } } })] }, 'steps[2] (c).input.x: $ref steps.b.result: step "b" is not a prerequisite'],
    ['a reference to a missing step', { steps: [step('a', { input: { $ref: 'steps.zz.result' } })] }, 'steps[0] (a).input: $ref steps.zz.result: no step "zz"'],
    ['a reference to a step but not its result', { steps: [step('a'), step('b', { depends_on: ['a'], input: { x: { $ref: 'steps.a.status' } } })] }, '$ref steps.a.status: a step has only a result: write steps.a.result'],
    ['a reference outside request and steps', { steps: [step('a', { input: { $ref: 'process.env' } })] }, 'steps[0] (a).input: $ref process.env: must start with request. or steps.'],
    ['a reference to an unknown request field', { steps: [step('a', { input: { x: { $ref: 'request.requester_id' } } })] }, '$ref request.requester_id: request has only task_id, task_type, priority, payload'],
    ['a reference into a request string', { steps: [step('a', { input: { x: { $ref: 'request.task_id.length' } } })] }, '$ref request.task_id.length: request.task_id is a string and has no fields'],
    ['a reference with an empty segment', { steps: [step('a', { input: { x: { $ref: 'request.payload..x' } } })] }, '$ref request.payload..x: has an empty segment'],
    ['a reference that is not a string', { steps: [step('a', { input: { x: { $ref: 3 } } })] }, 'steps[0] (a).input.x: $ref must be a string path'],
    ['a reference with extra keys', { steps: [step('a', { input: { $ref: 'request.payload', eval: '1' } })] }, 'steps[0] (a).input: unknown field "eval" in a $ref (allowed: $ref, default)'],
    ['a reference nested in an array', { steps: [step('a', { input: { list: [1, { $ref: 'steps.nope.result' }] } })] }, 'steps[0] (a).input.list[1]: $ref steps.nope.result: no step "nope"'],
    ['a reference to an optional step without default', { steps: [step('a', { optional: true }), step('b', { depends_on: ['a'], input: { x: { $ref: 'steps.a.result.x' } } })] }, 'step "a" is optional or has a when condition and may have no result; give the reference a default'],
    ['a reference inside a default', { steps: [step('a', { input: { x: { $ref: 'request.payload.x', default: { $ref: 'request.task_id' } } } })] }, 'steps[0] (a).input.x.default: a default is a literal value and cannot hold a $ref'],
    ['an output reference to an unknown step', { steps: [step('a')], output: { x: { $ref: 'steps.b.result' } } }, 'workflows/flow.yaml: output.x: $ref steps.b.result: no step "b"'],
    ['a number that is not JSON', { steps: [step('a', { input: { x: Number.POSITIVE_INFINITY } })] }, 'steps[0] (a).input.x: Infinity is not a JSON value'],
    ['an object that is not JSON', { steps: [step('a', { input: { when: new Date(0) } })] }, 'steps[0] (a).input.when: must be plain JSON'],
  ])('reports %s', (_name, raw, message) => {
    expect(problemsOf(raw).join('\n')).toContain(message);
  });

  it('reports every problem of a definition at once, and returns no definition', () => {
    const result = parseWorkflowDefinition(
      { task_type: 'flow', version: 0, extra: 1, steps: [step('a', { agent: 'a.>' }), step('b', { depends_on: ['zz'], timeout_ms: 1 })] },
      'workflows/flow.yaml',
      'flow',
    );
    expect(result.definition).toBeUndefined();
    expect(result.problems).toEqual([
      'workflows/flow.yaml: unknown field "extra" (allowed: task_type, version, description, payload, defaults, timeout_ms, steps, output, replan, fairness, concurrency, budget, plan)',
      'workflows/flow.yaml: version: must be an integer from 1 to 9007199254740991',
      'workflows/flow.yaml: steps[0] (a): agent "a.>" is not an agent name (must match ^[a-z0-9][a-z0-9_-]{0,63}$)',
      'workflows/flow.yaml: steps[1] (b).timeout_ms: must be an integer from 100 to 86400000',
      'workflows/flow.yaml: steps[1] (b): depends_on names unknown step "zz"',
    ]);
  });

  it('names each distinct cycle once', () => {
    const problems = problemsOf({
      steps: [step('a', { depends_on: ['b'] }), step('b', { depends_on: ['a'] }), step('c', { depends_on: ['d'] }), step('d', { depends_on: ['c'] })],
    });
    expect(problems).toEqual(['workflows/flow.yaml: steps: depends_on forms a cycle: a -> b -> a', 'workflows/flow.yaml: steps: depends_on forms a cycle: c -> d -> c']);
  });

  it('accepts references to transitive prerequisites, to optional steps with a default, and to any step from the output', () => {
    expect(
      problemsOf({
        steps: [
          step('a', { optional: true }),
          step('b', { depends_on: ['a'] }),
          step('c', { depends_on: ['b'], input: { first: { $ref: 'steps.a.result.x', default: null }, second: { $ref: 'steps.b.result' }, p: { $ref: 'request.payload' } } }),
        ],
        output: { c: { $ref: 'steps.c.result' }, a: { $ref: 'steps.a.result', default: {} }, items: [{ $ref: 'steps.b.result.items.0' }] },
      }),
    ).toEqual([]);
  });

  it('reads a sub-workflow step as a sub-task to the orchestrator itself', () => {
    const { definition } = parseWorkflowDefinition({ task_type: 'flow', version: 1, steps: [{ id: 'inner', workflow: 'other_flow' }] }, 'flow.yaml', 'flow');
    expect(definition?.steps[0]).toMatchObject({ agent: 'orchestrator_agent', task_type: 'other_flow', capability: null, workflow: 'other_flow' });
    expect(parseWorkflowDefinition({ task_type: 'flow', version: 1, steps: [step('a')] }, 'flow.yaml', 'flow').definition?.steps[0]).not.toHaveProperty('workflow');
    expect(problemsOf({ steps: [{ id: 'inner', workflow: 'other', agent: 'x' }] }).join('\n')).toContain('a step with a workflow names no agent, capability or task_type');
  });

  it('reads a capability step with no named agent', () => {
    const { definition } = parseWorkflowDefinition({ task_type: 'flow', version: 1, steps: [{ id: 'a', capability: 'summarize' }] }, 'flow.yaml', 'flow');
    expect(definition?.steps[0]).toMatchObject({ agent: null, capability: 'summarize', task_type: 'summarize' });
  });

  it('requires task_type to match the file name', () => {
    expect(parseWorkflowDefinition({ task_type: 'other', version: 1, steps: [step('a')] }, 'workflows/flow.yaml', 'flow').problems).toEqual([
      'workflows/flow.yaml: task_type: "other" must equal the file name "flow"',
    ]);
  });

  it('refuses something that is not a mapping', () => {
    expect(parseWorkflowDefinition(null, 'workflows/flow.yaml', 'flow').problems).toEqual(['workflows/flow.yaml: must be a mapping with task_type, version and steps']);
  });
});

describe('parseWorkflowDefinition: when, for_each, concurrency, $expr, item and index', () => {
  const TIMEOUT = 'did not finish within 1000 ms';

  it('reads a definition that uses all of them', () => {
    const { definition, problems } = parseWorkflowDefinition(
      {
        task_type: 'flow',
        version: 1,
        steps: [
          step('review', { input: { text: { $expr: 'request.payload.text + "!"' } } }),
          step('publish', { depends_on: ['review'], when: 'steps.review.result.approved == true && request.priority != "LOW"' }),
          step('translate', {
            depends_on: ['review'],
            for_each: 'request.payload.languages',
            concurrency: 3,
            input: {
              language: { $ref: 'item' },
              code: { $ref: 'item.code' },
              position: { $ref: 'index' },
              label: { $expr: 'string(index + 1) + "/" + string(size(request.payload.languages)) + " " + item.code' },
              text: { $ref: 'steps.review.result.text' },
            },
          }),
          step('notify', { depends_on: ['publish', 'translate'], for_each: '[1, 2]', input: { n: { $ref: 'item' }, done: { $ref: 'steps.publish.result', default: null } } }),
        ],
        output: { count: { $expr: 'size(steps.translate.result)' }, published: { $ref: 'steps.publish.result', default: null } },
      },
      'workflows/flow.yaml',
      'flow',
    );
    expect(problems).toEqual([]);
    expect(definition?.steps[0]).not.toHaveProperty('when');
    expect(definition?.steps[0]).not.toHaveProperty('for_each');
    expect(definition?.steps[1]).toMatchObject({ id: 'publish', when: 'steps.review.result.approved == true && request.priority != "LOW"' });
    expect(definition?.steps[1]).not.toHaveProperty('concurrency');
    expect(definition?.steps[2]).toMatchObject({ id: 'translate', for_each: 'request.payload.languages', concurrency: 3 });
    expect(definition?.steps[3]).toMatchObject({ id: 'notify', for_each: '[1, 2]' });
    expect(definition?.steps[3]).not.toHaveProperty('concurrency');
    expect(definition?.output).toEqual({ count: { $expr: 'size(steps.translate.result)' }, published: { $ref: 'steps.publish.result', default: null } });
  });

  it('accepts a when that reads a transitive prerequisite, and a for_each step with a when', () => {
    expect(
      problemsOf({
        steps: [
          step('a'),
          step('b', { depends_on: ['a'] }),
          step('c', { depends_on: ['b'], when: 'has(steps.a.result.go) && steps.b.result.n > 0.0', for_each: 'steps.a.result.items', concurrency: 1 }),
        ],
      }),
    ).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    // when
    ['a when that is not a string', { steps: [step('review'), step('publish', { depends_on: ['review'], when: true })] }, 'workflows/flow.yaml: steps[1] (publish).when: must be a string, not a boolean'],
    ['an empty when', { steps: [step('review'), step('publish', { when: ' ' })] }, 'workflows/flow.yaml: steps[1] (publish).when: must be a CEL expression (a non-empty string)'],
    ['a when with a syntax error', { steps: [step('review'), step('publish', { depends_on: ['review'], when: 'steps.review.result.ok ==' })] }, 'workflows/flow.yaml: steps[1] (publish).when: is not a valid CEL expression: '],
    ['a when on a step that is not a prerequisite', { steps: [step('review'), step('publish', { when: 'steps.review.result.ok' })] }, 'workflows/flow.yaml: steps[1] (publish).when: steps.review: step "review" is not a prerequisite (add it to depends_on)'],
    ['a when on its own step', { steps: [step('publish', { when: 'steps.publish.result.ok' })] }, 'steps[0] (publish).when: steps.publish: step "publish" is not a prerequisite'],
    ['a when on an unknown step', { steps: [step('review'), step('publish', { depends_on: ['review'], when: 'steps.reviw.result.ok' })] }, 'workflows/flow.yaml: steps[1] (publish).when: steps.reviw: no step "reviw"'],
    ['a when on an unknown variable', { steps: [step('publish', { when: 'env.DEBUG == "1"' })] }, 'workflows/flow.yaml: steps[0] (publish).when: does not type-check: Unknown variable: env'],
    ['a when on bare steps', { steps: [step('publish', { when: 'size(steps) > 0' })] }, 'steps[0] (publish).when: steps must be followed by .<step id>, e.g. steps.review.result'],
    ['a when that gives a string', { steps: [step('publish', { when: '"yes" + request.task_id' })] }, 'workflows/flow.yaml: steps[0] (publish).when: must give true or false, not string'],
    ['a when on item', { steps: [step('publish', { for_each: '[1]', when: 'item > 0' })] }, 'steps[0] (publish).when: item and index are there only in the input of a step with for_each'],
    ['a constant when that never finishes', { steps: [step('publish', { when: `"${'a'.repeat(37)}!".matches("^(a+)+$")` })] }, `workflows/flow.yaml: steps[0] (publish).when: ${TIMEOUT}`],
    ['a when too long', { steps: [step('publish', { when: `request.priority == "${'x'.repeat(1_000)}"` })] }, 'steps[0] (publish).when: is 1022 characters long; at most 1000 are allowed'],
    // for_each
    ['a for_each that is not a string', { steps: [step('fan', { for_each: ['a', 'b'] })] }, 'workflows/flow.yaml: steps[0] (fan).for_each: must be a string, not a list'],
    ['a for_each that gives a number', { steps: [step('fan', { for_each: 'size(request.payload)' })] }, 'workflows/flow.yaml: steps[0] (fan).for_each: must give a list, not int'],
    ['a constant for_each that is not a list', { steps: [step('fan', { for_each: 'dyn("abc")' })] }, 'workflows/flow.yaml: steps[0] (fan).for_each: must give a list'],
    ['a for_each on a step that is not a prerequisite', { steps: [step('a'), step('fan', { for_each: 'steps.a.result.items' })] }, 'workflows/flow.yaml: steps[1] (fan).for_each: steps.a: step "a" is not a prerequisite (add it to depends_on)'],
    ['a for_each on item', { steps: [step('fan', { for_each: 'item.list' })] }, 'steps[0] (fan).for_each: item and index are there only in the input of a step with for_each'],
    ['a constant for_each that never finishes', { steps: [step('fan', { for_each: `${'[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(a, '.repeat(8)}a${')'.repeat(8)}` })] }, `workflows/flow.yaml: steps[0] (fan).for_each: ${TIMEOUT}`],
    // concurrency
    ['concurrency without for_each', { steps: [step('fan', { concurrency: 2 })] }, 'workflows/flow.yaml: steps[0] (fan).concurrency: applies to a step with for_each only'],
    ['a concurrency of zero', { steps: [step('fan', { for_each: '[1]', concurrency: 0 })] }, 'workflows/flow.yaml: steps[0] (fan).concurrency: must be an integer from 1 to 1000'],
    ['a concurrency too large', { steps: [step('fan', { for_each: '[1]', concurrency: 1001 })] }, 'steps[0] (fan).concurrency: must be an integer from 1 to 1000'],
    ['a concurrency that is not an integer', { steps: [step('fan', { for_each: '[1]', concurrency: '4' })] }, 'steps[0] (fan).concurrency: must be an integer from 1 to 1000'],
    // $expr
    ['an $expr with other fields', { steps: [step('a', { input: { x: { $expr: 'request.task_id', default: 'x' } } })] }, 'workflows/flow.yaml: steps[0] (a).input.x: an $expr stands alone (no other fields beside it)'],
    ['an $expr that is not a string', { steps: [step('a', { input: { x: { $expr: 3 } } })] }, 'workflows/flow.yaml: steps[0] (a).input.x: $expr must be a CEL expression (a non-empty string)'],
    ['an $expr with a syntax error', { steps: [step('a', { input: { x: { $expr: 'request.payload.' } } })] }, 'workflows/flow.yaml: steps[0] (a).input.x: $expr is not a valid CEL expression: '],
    ['an $expr on a step that is not a prerequisite', { steps: [step('a'), step('b', { input: { list: [{ $expr: 'steps.a.result.n' }] } })] }, 'workflows/flow.yaml: steps[1] (b).input.list[0]: $expr steps.a: step "a" is not a prerequisite (add it to depends_on)'],
    ['an $expr on an unknown step', { steps: [step('a')], output: { x: { $expr: 'steps.b.result' } } }, 'workflows/flow.yaml: output.x: $expr steps.b: no step "b"'],
    ['an $expr as a whole input', { steps: [step('a', { input: { $expr: 'nope.x' } })] }, 'workflows/flow.yaml: steps[0] (a).input: $expr does not type-check: Unknown variable: nope'],
    ['an $expr on item outside a for_each step', { steps: [step('a', { input: { x: { $expr: 'item.name' } } })] }, 'steps[0] (a).input.x: $expr item and index are there only in the input of a step with for_each'],
    ['an $expr on index in the output', { steps: [step('a', { for_each: '[1]' })], output: { x: { $expr: 'index' } } }, 'workflows/flow.yaml: output.x: $expr item and index are there only in the input of a step with for_each'],
    ['a constant $expr that fails', { steps: [step('a', { input: { x: { $expr: '1 / 0' } } })] }, 'workflows/flow.yaml: steps[0] (a).input.x: $expr failed: '],
    ['a constant $expr that never finishes', { steps: [step('a', { input: { x: { $expr: `"${'a'.repeat(37)}!".matches("^(a+)+$")` } } })] }, `steps[0] (a).input.x: $expr ${TIMEOUT}`],
    // item and index in $ref
    ['a $ref to item outside a for_each step', { steps: [step('a', { input: { x: { $ref: 'item.name' } } })] }, 'workflows/flow.yaml: steps[0] (a).input.x: $ref item.name: item is there only in the input of a step with for_each'],
    ['a $ref to index outside a for_each step', { steps: [step('a', { input: { x: { $ref: 'index' } } })] }, 'workflows/flow.yaml: steps[0] (a).input.x: $ref index: index is there only in the input of a step with for_each'],
    ['a $ref to item in the output', { steps: [step('a', { for_each: '[1]' })], output: { $ref: 'item' } }, 'workflows/flow.yaml: output: $ref item: item is there only in the input of a step with for_each'],
    ['a $ref into index', { steps: [step('a', { for_each: '[1]', input: { x: { $ref: 'index.value' } } })] }, 'workflows/flow.yaml: steps[0] (a).input.x: $ref index.value: index is a number and has no fields'],
    ['a $ref to another root in a for_each step', { steps: [step('a', { for_each: '[1]', input: { x: { $ref: 'items.0' } } })] }, 'steps[0] (a).input.x: $ref items.0: must start with request. or steps., or be item or index'],
    // steps with a when may not have run
    ['a $ref to a step with a when and no default', { steps: [step('a', { when: 'request.priority == "HIGH"' }), step('b', { depends_on: ['a'], input: { x: { $ref: 'steps.a.result' } } })] }, 'workflows/flow.yaml: steps[1] (b).input.x: $ref steps.a.result: step "a" is optional or has a when condition and may have no result; give the reference a default'],
    ['an output $ref to a step with a when and no default', { steps: [step('a', { when: 'request.priority == "HIGH"' })], output: { $ref: 'steps.a.result.x' } }, 'workflows/flow.yaml: output: $ref steps.a.result.x: step "a" is optional or has a when condition'],
  ])('reports %s', (_name, raw, message) => {
    expect(problemsOf(raw).join('\n')).toContain(message);
  });

  it('reports each problem of a when, a for_each and an $expr at its own place, and returns no definition', () => {
    const result = parseWorkflowDefinition(
      {
        task_type: 'flow',
        version: 1,
        steps: [
          step('review'),
          step('publish', { when: 'steps.review.result.ok', for_each: 'steps.nope.result', concurrency: 2, input: { x: { $expr: '"a" + 1' } } }),
        ],
      },
      'workflows/flow.yaml',
      'flow',
    );
    expect(result.definition).toBeUndefined();
    expect(result.problems).toEqual([
      'workflows/flow.yaml: steps[1] (publish).when: steps.review: step "review" is not a prerequisite (add it to depends_on)',
      'workflows/flow.yaml: steps[1] (publish).for_each: steps.nope: no step "nope"',
      expect.stringMatching(/^workflows\/flow\.yaml: steps\[1\] \(publish\)\.input\.x: \$expr does not type-check: /),
    ]);
  });

  it('does not check the when or for_each of a definition whose steps form a cycle', () => {
    // The cycle is the problem to fix first; the expressions are not judged against a broken graph.
    expect(problemsOf({ steps: [step('a', { depends_on: ['b'], when: 'steps.b.result.ok' }), step('b', { depends_on: ['a'] })] })).toEqual([
      'workflows/flow.yaml: steps: depends_on forms a cycle: a -> b -> a',
    ]);
  });
});

describe('parseWorkflowDefinition: plan: dynamic, replan, and revisions that build on finished steps', () => {
  it('reads a file that leaves its steps to the planner, with its payload and policies', () => {
    const { definition, problems } = parseWorkflowDefinition(
      { task_type: 'flow', version: 3, plan: 'dynamic', payload: { topic: { type: 'string', required: true } }, replan: { max_revisions: 2 } },
      'workflows/flow.yaml',
      'flow',
    );
    expect(problems).toEqual([]);
    expect(definition).toMatchObject({ dynamic: true, steps: [], version: 3, replan: { max_revisions: 2 } });
  });

  it('refuses steps or an output beside plan: dynamic, and any other plan', () => {
    expect(problemsOf({ plan: 'dynamic', steps: [step('a')], output: { x: 1 } })).toEqual([
      'workflows/flow.yaml: steps: comes from the planner agent in a workflow with plan: dynamic; remove it',
      'workflows/flow.yaml: output: comes from the planner agent in a workflow with plan: dynamic; remove it',
    ]);
    expect(problemsOf({ plan: 'static', steps: [step('a')] })).toEqual(['workflows/flow.yaml: plan: must be "dynamic"']);
  });

  it('checks replan', () => {
    expect(problemsOf({ steps: [step('a')], replan: { max_revisions: 0 } })).toEqual([
      'workflows/flow.yaml: replan.max_revisions: must be an integer from 1 to 10',
    ]);
    expect(problemsOf({ steps: [step('a')], replan: {} })).toContain('workflows/flow.yaml: replan.max_revisions: is required');
    expect(problemsOf({ steps: [step('a')], replan: 2 })).toEqual(['workflows/flow.yaml: replan: must be a mapping, not an integer']);
  });

  it('lets a revision depend on finished steps and read their results, but not take their ids', () => {
    const done = new Set(['research']);
    const revision = (steps: unknown[], output?: unknown) =>
      parseWorkflowDefinition({ task_type: 'flow', version: 1, steps, ...(output === undefined ? {} : { output }) }, 'plan from planner', undefined, done);
    expect(
      revision([step('draft', { depends_on: ['research'], input: { text: { $ref: 'steps.research.result.text' } } })], {
        text: { $ref: 'steps.research.result.text' },
      }).problems,
    ).toEqual([]);
    expect(revision([step('research')]).problems).toEqual([
      'plan from planner: steps[0] (research): step "research" is already done in this workflow; give the new step another id',
    ]);
    expect(revision([step('draft', { depends_on: ['ghost'] })]).problems).toEqual(['plan from planner: steps[0] (draft): depends_on names unknown step "ghost"']);
  });
});
