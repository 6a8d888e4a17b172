import { describe, expect, it } from 'vitest';
import { parseWorkflowDefinition } from './workflow-definition.js';

function parse(steps: Record<string, unknown>[]): ReturnType<typeof parseWorkflowDefinition> {
  return parseWorkflowDefinition({ task_type: 'flow', version: 1, payload: { invoice: { type: 'string' } }, steps }, 'workflows/flow.yaml', 'flow');
}

const problems = (steps: Record<string, unknown>[]): string[] => parse(steps).problems.map((problem) => problem.replace('workflows/flow.yaml: ', ''));

describe('steps that wait (wait_for, sleep)', () => {
  it('reads a signal, an event and a sleep, with their defaults', () => {
    const { definition, problems: found } = parse([
      { id: 'approve', wait_for: { signal: 'approval', timeout_ms: 86_400_000, payload: { approved: { type: 'boolean', required: true } } }, input: { text: 'x' } },
      { id: 'paid', depends_on: ['approve'], wait_for: { event: 'payment.received', match: { invoice_id: { $ref: 'request.payload.invoice' } }, on_timeout: 'continue', default: { paid: false }, timeout_ms: 1000, lookback_ms: 5000 } },
      { id: 'nap', depends_on: ['paid'], sleep: { until: 'steps.paid.result.at' } },
    ]);
    expect(found).toEqual([]);
    expect(definition?.steps.map((step) => [step.id, step.agent, step.task_type, step.wait_for, step.sleep])).toEqual([
      ['approve', null, 'wait_for', { signal: 'approval', timeout_ms: 86_400_000, on_timeout: 'fail', payload: { approved: { type: 'boolean', required: true } } }, undefined],
      ['paid', null, 'wait_for', { event: 'payment.received', match: { invoice_id: { $ref: 'request.payload.invoice' } }, on_timeout: 'continue', default: { paid: false }, timeout_ms: 1000, lookback_ms: 5000 }, undefined],
      ['nap', null, 'sleep', undefined, { until: 'steps.paid.result.at' }],
    ]);
  });

  it('refuses what a wait cannot have, each problem with its step and field', () => {
    expect(
      problems([
        { id: 'a', agent: 'x', task_type: 'y', wait_for: { signal: 'approval', match: { a: 1 }, default: { x: 1 } } },
        { id: 'b', sleep: { for_ms: 5, until: 'request.payload.invoice' }, input: { a: 1 } },
        { id: 'c', wait_for: { timeout_ms: 5 } },
        { id: 'd', wait_for: { event: 'a..b', match: { id: { $ref: 'steps.zz.result' } } } },
        { id: 'e', sleep: { until: 'steps.a.result.x' } },
        { id: 'f', wait_for: { event: 'ok', payload: { x: { type: 'string' } } }, for_each: '[1]' },
      ]),
    ).toEqual([
      'steps[0] (a).agent: a step that waits (wait_for, sleep) is sent to no agent: remove it',
      'steps[0] (a).task_type: a step that waits (wait_for, sleep) is sent to no agent: remove it',
      'steps[0] (a).wait_for.match: match applies to an event; a signal is addressed to its workflow',
      'steps[0] (a).wait_for.default: default is the result of a wait that times out with on_timeout: continue',
      'steps[1] (b).input: a sleep has no input: remove it',
      'steps[1] (b).sleep.until: give for_ms or until, not both',
      'steps[2] (c).wait_for: waits for a signal or for an event: give signal or event',
      'steps[2] (c).wait_for.timeout_ms: must be an integer from 100 to 31536000000',
      'steps[3] (d).wait_for.event: "a..b" must match ^(?=.{1,128}$)[A-Za-z0-9_-]+(?:\\.[A-Za-z0-9_-]+)*$',
      'steps[5] (f).for_each: a step that waits (wait_for, sleep) is sent to no agent: remove it',
      'steps[5] (f).wait_for.payload: payload applies to a signal; an event is taken as it comes',
      'steps[3] (d).wait_for.match.id: $ref steps.zz.result: no step "zz"',
      'steps[4] (e).sleep.until: steps.a: step "a" is not a prerequisite (add it to depends_on)',
    ]);
  });
});
