import { describe, expect, it } from 'vitest';
import { readySteps, type Plan, type PlannedStep } from './plan.js';

function planOf(...steps: [id: string, depends_on: string[]][]): Plan {
  const planned = steps.map(
    ([id, depends_on]): PlannedStep => ({
      id,
      agent: 'worker',
      capability: null,
      task_type: 'work',
      depends_on,
      input: {},
      timeout_ms: 1000,
      max_attempts: 1,
      backoff: { initial_ms: 1, max_ms: 1 },
      fallbacks: [],
      optional: false,
    }),
  );
  return { task_type: 'flow', version: 1, steps: planned, output: null, timeout_ms: null };
}

const ids = (steps: PlannedStep[]): string[] => steps.map((step) => step.id);

describe('readySteps', () => {
  // draft fans out to enhance and review, which fan in to export, then publish.
  const diamond = planOf(['draft', []], ['enhance', ['draft']], ['review', ['draft']], ['export', ['enhance', 'review']], ['publish', ['export']]);

  it('starts with the steps that depend on nothing', () => {
    expect(ids(readySteps(diamond, new Set(), new Set()))).toEqual(['draft']);
  });

  it('releases every branch of a fan-out at once, in plan order', () => {
    expect(ids(readySteps(diamond, new Set(['draft']), new Set(['draft'])))).toEqual(['enhance', 'review']);
  });

  it('holds a fan-in until every prerequisite has completed', () => {
    expect(ids(readySteps(diamond, new Set(['draft', 'enhance']), new Set(['draft', 'enhance', 'review'])))).toEqual([]);
    expect(ids(readySteps(diamond, new Set(['draft', 'enhance', 'review']), new Set(['draft', 'enhance', 'review'])))).toEqual(['export']);
  });

  it('does not offer a step again once started, even when it has not completed', () => {
    expect(ids(readySteps(diamond, new Set(['draft']), new Set(['draft', 'review'])))).toEqual(['enhance']);
    expect(ids(readySteps(diamond, new Set(['draft', 'enhance', 'review', 'export', 'publish']), new Set(['draft', 'enhance', 'review', 'export', 'publish'])))).toEqual([]);
  });

  it('runs independent roots together and keeps plan order, not completion order', () => {
    const plan = planOf(['b', []], ['a', []], ['join', ['a', 'b']], ['after_a', ['a']], ['after_b', ['b']]);
    expect(ids(readySteps(plan, new Set(), new Set()))).toEqual(['b', 'a']);
    expect(ids(readySteps(plan, new Set(['a', 'b']), new Set(['a', 'b'])))).toEqual(['join', 'after_a', 'after_b']);
  });
});
