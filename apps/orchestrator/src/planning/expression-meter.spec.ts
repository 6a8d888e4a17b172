import { describe, expect, it } from 'vitest';
import { evaluateExpression, EXPRESSION_LIMITS, ExpressionError } from './expression.js';
import { runExpressionJob, type ExpressionSettings } from './expression-jobs.js';
import type { TemplateContext } from './template.js';

/** Nine levels of `[x].map(a, a + a)[0]`: the string doubles at each, 512 times its size at the end. */
function doublingBomb(levels = 9): string {
  let source = 'request.payload.s';
  for (let i = 0; i < levels; i++) source = `[${source}].map(a,a+a)[0]`;
  return source;
}

const settings: ExpressionSettings = { ...EXPRESSION_LIMITS.budget, timeoutMs: EXPRESSION_LIMITS.timeoutMs };

/** Expects `work` to throw an ExpressionError with these fields (a message may be a pattern). */
const refuses = (work: () => unknown, fields: { code: ExpressionError['code']; message?: string | RegExp }): void => {
  const { message, ...rest } = fields;
  const text: unknown = typeof message === 'string' ? message : message && expect.stringMatching(message);
  expect(work).toThrow(expect.objectContaining({ name: 'ExpressionError', ...rest, ...(text === undefined ? {} : { message: text }) }));
};

describe('an evaluation metered while it runs', () => {
  it('stops a string doubled at every level over a 1 MB payload at the byte limit, long before it is written', () => {
    const source = doublingBomb();
    expect(source.length).toBeLessThan(EXPRESSION_LIMITS.maxLength);
    refuses(() => evaluateExpression(source, { request: { payload: { s: 'x'.repeat(1_048_576) } } }), {
      code: 'EXPRESSION_TOO_LARGE',
      message: /^built (a string of [\d,]+ characters|more than [\d,]+ bytes in all).* \(EXPRESSION_MAX_BYTES\)$/,
    });
  });

  it('stops a comprehension nested over a 700-item list at the step limit', () => {
    const list = Array.from({ length: 700 }, (_, i) => i);
    refuses(() => evaluateExpression('request.payload.l.map(x, request.payload.l.map(y, x + y))', { request: { payload: { l: list } } }), {
      code: 'EXPRESSION_TOO_COSTLY',
      message: 'ran more than 100,000 evaluation steps (EXPRESSION_MAX_STEPS)',
    });
  });

  it('stops a list or a map past the entries allowed', () => {
    const budget = { ...EXPRESSION_LIMITS.budget, maxItems: 1_000 };
    const list = Array.from({ length: 600 }, (_, i) => i);
    refuses(() => evaluateExpression('request.payload.l + request.payload.l', { request: { payload: { l: list } } }, budget), {
      code: 'EXPRESSION_TOO_LARGE',
      message: 'built a list or map of 1,200 entries; at most 1,000 are allowed (EXPRESSION_MAX_ITEMS)',
    });
  });

  it('does not let a condition look past a limit: && and exists would otherwise take the error for a value', () => {
    const list = Array.from({ length: 700 }, (_, i) => i);
    const data = { request: { payload: { l: list } } };
    refuses(() => evaluateExpression('size(request.payload.l.map(x, request.payload.l.map(y, y))) > 0 && false', data), { code: 'EXPRESSION_TOO_COSTLY' });
    refuses(() => evaluateExpression('request.payload.l.exists(x, request.payload.l.exists(y, x + y < 0)) || true', data), { code: 'EXPRESSION_TOO_COSTLY' });
  });

  it('meters each evaluation on its own: harmless ones run after a refused one, and as often as asked', () => {
    const list = Array.from({ length: 700 }, (_, i) => i);
    refuses(() => evaluateExpression('request.payload.l.map(x, request.payload.l.map(y, y))', { request: { payload: { l: list } } }), { code: 'EXPRESSION_TOO_COSTLY' });
    for (let i = 0; i < 50; i++) {
      expect(evaluateExpression('request.payload.l.map(x, x * 2.0)[699]', { request: { payload: { l: list } } })).toBe(1_398);
    }
    expect(evaluateExpression('request.payload.s + request.payload.s', { request: { payload: { s: 'ab' } } })).toBe('abab');
  });
});

describe('expression jobs: what a template builds is bounded too', () => {
  const big = 'x'.repeat(1_048_576);
  const context: TemplateContext = { request: { task_id: 't', task_type: 'x', priority: 'NORMAL', payload: { s: big, items: [1, 2, 3] } }, steps: {} };

  it('refuses an input made of many references to a large value without writing it', () => {
    const template = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, { $ref: 'request.payload.s' }]));
    refuses(() => runExpressionJob({ kind: 'resolve', template, context }, settings), {
      code: 'EXPRESSION_TOO_LARGE',
      message: 'builds more than 16,777,216 bytes of JSON (EXPRESSION_MAX_BYTES)',
    });
  });

  it("bounds a for_each step's items together, and their number", () => {
    const template = { text: { $ref: 'request.payload.s' }, n: { $ref: 'item' } };
    // Twenty items, each with the 1 MB string: 20 MB together.
    const source = 'request.payload.items + request.payload.items.map(i, i + 3.0) + [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]';
    refuses(() => runExpressionJob({ kind: 'expand', source, template, context, maxItems: 1_000 }, settings), {
      code: 'EXPRESSION_TOO_LARGE',
      message: 'the inputs of its 20 items come to more than 16,777,216 bytes of JSON (EXPRESSION_MAX_BYTES)',
    });
    expect(() => runExpressionJob({ kind: 'expand', source: '[1, 2, 3]', template: {}, context, maxItems: 2 }, settings)).toThrow('gave 3 items; at most 2 are allowed');
    expect(runExpressionJob({ kind: 'expand', source: 'request.payload.items', template: { n: { $ref: 'item' }, i: { $ref: 'index' } }, context, maxItems: 3 }, settings)).toEqual([
      { n: 1, i: 0 },
      { n: 2, i: 1 },
      { n: 3, i: 2 },
    ]);
  });
});
