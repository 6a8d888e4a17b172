import { describe, expect, it } from 'vitest';
import { readySteps, resolveTemplate, type Plan, type PlannedStep, type TemplateContext } from './plan.js';
import { TemplateError } from './planning.errors.js';

const context: TemplateContext = {
  request: { task_id: 't-1', task_type: 'flow', priority: 'HIGH', payload: { topic: 'Graphs', tags: ['a', 'b'], empty: null } },
  steps: { draft: { result: { title: 'T', sections: [{ name: 'intro' }], approved: false, score: 0 } } },
};

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

describe('resolveTemplate', () => {
  it('replaces references in nested objects and arrays and keeps literals', () => {
    expect(
      resolveTemplate(
        {
          topic: { $ref: 'request.payload.topic' },
          first: { $ref: 'steps.draft.result.sections.0.name' },
          deep: { list: [{ $ref: 'request.payload.tags.1' }, 3, [{ $ref: 'request.priority' }]], fixed: 'x', none: null },
        },
        context,
      ),
    ).toEqual({ topic: 'Graphs', first: 'intro', deep: { list: ['b', 3, ['HIGH']], fixed: 'x', none: null } });
  });

  it('reads the request fields and whole results', () => {
    expect(resolveTemplate({ $ref: 'steps.draft.result' }, context)).toEqual(context.steps['draft']?.result);
    expect(resolveTemplate([{ $ref: 'request.task_id' }, { $ref: 'request.task_type' }, { $ref: 'request.payload' }], context)).toEqual(['t-1', 'flow', context.request.payload]);
  });

  it('keeps falsy values and null rather than using the default', () => {
    expect(resolveTemplate({ $ref: 'steps.draft.result.approved', default: true }, context)).toBe(false);
    expect(resolveTemplate({ $ref: 'steps.draft.result.score', default: 50 }, context)).toBe(0);
    expect(resolveTemplate({ $ref: 'request.payload.empty', default: 'x' }, context)).toBeNull();
  });

  it('uses the default of a reference that is not there, as it is', () => {
    expect(resolveTemplate({ $ref: 'request.payload.tone', default: 'calm' }, context)).toBe('calm');
    expect(resolveTemplate({ $ref: 'steps.review.result', default: { approved: true } }, context)).toEqual({ approved: true });
    expect(resolveTemplate({ $ref: 'request.payload.tags.5', default: null }, context)).toBeNull();
  });

  it('fails naming the path of a reference that is not there and has no default', () => {
    let error: unknown;
    try {
      resolveTemplate({ a: [{ b: { $ref: 'steps.draft.result.summary' } }] }, context);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toMatchObject({ code: 'UNRESOLVED_REFERENCE', path: 'steps.draft.result.summary' });
    expect((error as Error).message).toBe('$ref steps.draft.result.summary: nothing is there and the reference has no default');
    expect(() => resolveTemplate({ $ref: 'steps.review.result' }, context)).toThrow('$ref steps.review.result:');
    expect(() => resolveTemplate({ $ref: 'request.payload.tags.x' }, context)).toThrow(TemplateError);
  });

  it('does not reach into prototypes', () => {
    expect(resolveTemplate({ $ref: 'request.payload.constructor', default: null }, context)).toBeNull();
    expect(resolveTemplate({ $ref: 'request.payload.tags.length', default: null }, context)).toBeNull();
  });

  it('leaves the template unchanged', () => {
    const template = { a: { $ref: 'request.payload.topic' }, list: [{ $ref: 'request.task_id' }] };
    const copy = structuredClone(template);
    resolveTemplate(template, context);
    expect(template).toEqual(copy);
  });
});
