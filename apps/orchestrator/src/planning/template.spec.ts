import { describe, expect, it } from 'vitest';
import { ExpressionError } from './expression.js';
import { TemplateError } from './planning.errors.js';
import { evaluate, resolveTemplate, type TemplateContext } from './template.js';

const context: TemplateContext = {
  request: { task_id: 't-1', task_type: 'flow', priority: 'HIGH', payload: { topic: 'Graphs', tags: ['a', 'b'], empty: null } },
  steps: { draft: { result: { title: 'T', sections: [{ name: 'intro' }], approved: false, score: 0 } } },
};

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

describe('resolveTemplate with $expr, item and index', () => {
  const perItem = (item: unknown, index: number): TemplateContext => ({ ...context, item, index });

  it('replaces an $expr by its value, as plain JSON, anywhere in the template', () => {
    expect(
      resolveTemplate(
        {
          upper: { $expr: 'request.payload.topic + "!"' },
          count: { $expr: 'size(request.payload.tags)' },
          list: [{ $expr: 'request.payload.tags.map(t, t + t)' }, { $ref: 'request.priority' }, 'fixed'],
          approved: { $expr: 'steps.draft.result.approved || request.priority == "HIGH"' },
          map: { $expr: '{"title": steps.draft.result.title, "n": 2}' },
        },
        context,
      ),
    ).toEqual({ upper: 'Graphs!', count: 2, list: [['aa', 'bb'], 'HIGH', 'fixed'], approved: true, map: { title: 'T', n: 2 } });
    expect(typeof resolveTemplate({ $expr: 'size(request.payload.tags)' }, context)).toBe('number');
  });

  it('reads item and index by $ref and by $expr, index as a number', () => {
    const template = {
      item: { $ref: 'item' },
      name: { $ref: 'item.name' },
      first_tag: { $ref: 'item.tags.0' },
      index: { $ref: 'index' },
      label: { $expr: 'string(index + 1) + ". " + item.name' },
      next: { $expr: 'index + 1' },
      last: { $expr: 'index == size(request.payload.tags) - 1' },
    };
    expect(resolveTemplate(template, perItem({ name: 'x', tags: ['t'] }, 1))).toEqual({
      item: { name: 'x', tags: ['t'] },
      name: 'x',
      first_tag: 't',
      index: 1,
      label: '2. x',
      next: 2,
      last: true,
    });
    expect(resolveTemplate(template.next, perItem({ name: 'y' }, 0))).toBe(1);
  });

  it('keeps falsy items and index 0 rather than using the default', () => {
    expect(resolveTemplate({ $ref: 'item', default: 'd' }, perItem(0, 0))).toBe(0);
    expect(resolveTemplate({ $ref: 'item', default: 'd' }, perItem(null, 0))).toBeNull();
    expect(resolveTemplate({ $ref: 'index', default: 9 }, perItem('a', 0))).toBe(0);
    expect(resolveTemplate({ $ref: 'item.missing', default: 'd' }, perItem({}, 0))).toBe('d');
  });

  it('fails on item or index where there is none', () => {
    expect(() => resolveTemplate({ $ref: 'item' }, context)).toThrow(TemplateError);
    expect(() => resolveTemplate({ $ref: 'index' }, context)).toThrow('$ref index:');
    expect(() => resolveTemplate({ $expr: 'item.name' }, context)).toThrow(ExpressionError);
  });

  it('fails with the ExpressionError of an $expr that fails', () => {
    let error: unknown;
    try {
      resolveTemplate({ a: [{ $expr: 'steps.review.result.ok' }] }, context);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExpressionError);
    expect(error).toMatchObject({ code: 'EXPRESSION_FAILED' });
  });

  it('takes an $expr that is not a string as a plain mapping', () => {
    expect(resolveTemplate({ $expr: 3 }, context)).toEqual({ $expr: 3 });
  });

  it('leaves a template with $expr unchanged, and gives values apart from the data', () => {
    const template = { a: { $expr: 'request.payload.tags' }, b: [{ $expr: 'index' }] };
    const copy = structuredClone(template);
    const out = resolveTemplate(template, perItem('x', 3)) as { a: string[] };
    expect(template).toEqual(copy);
    out.a.push('mutated');
    expect(context.request.payload['tags']).toEqual(['a', 'b']);
  });
});

describe('evaluate', () => {
  it('evaluates a when or for_each against the data, with index as a CEL int', () => {
    expect(evaluate('steps.draft.result.approved', context)).toBe(false);
    expect(evaluate('steps.draft.result.sections.map(s, s.name)', context)).toEqual(['intro']);
    expect(evaluate('index * 2', { ...context, item: 'x', index: 21 })).toBe(42);
  });
});
