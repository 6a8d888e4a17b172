import { describe, expect, it } from 'vitest';
import { checkExpression, evaluateExpression, EXPRESSION_LIMITS, ExpressionError, toJson, type ExpressionScope } from './expression.js';

const data = {
  request: { task_id: 't-1', task_type: 'flow', priority: 'HIGH', payload: { n: 3, tags: ['a', 'b'], score: 0.5, topic: 'Graphs' } },
  steps: { review: { result: { approved: true, score: 7, notes: ['ok', 'fine'] } } },
};

/** `review` runs before the expression, `draft` exists but does not. */
const scope = (perItem = false): ExpressionScope => ({ stepIds: new Set(['review', 'draft']), canRead: (id) => id === 'review', perItem });

/** A pattern that backtracks for ever on a run of a's followed by something else. */
const CATASTROPHIC = '^(a+)+$';
const EVIL = `${'a'.repeat(37)}!`;

function errorOf(work: () => unknown): ExpressionError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(ExpressionError);
    return error as ExpressionError;
  }
  throw new Error('expected an ExpressionError, but nothing was thrown');
}

describe('evaluateExpression', () => {
  it('compares request and step data', () => {
    expect(evaluateExpression('request.payload.n > 2', data)).toBe(true);
    expect(evaluateExpression('request.payload.n > 3', data)).toBe(false);
    expect(evaluateExpression('request.payload.n == 3', data)).toBe(true);
    expect(evaluateExpression('steps.review.result.approved && request.priority == "HIGH"', data)).toBe(true);
    expect(evaluateExpression('steps.review.result.score >= 10 || request.payload.score < 0.1', data)).toBe(false);
    expect(evaluateExpression('"b" in request.payload.tags && !("c" in request.payload.tags)', data)).toBe(true);
    expect(evaluateExpression('request.payload.topic.startsWith("Gr") ? "graph" : "other"', data)).toBe('graph');
  });

  it('gives plain JSON: CEL integers become numbers, lists and maps plain arrays and objects', () => {
    const count = evaluateExpression('size(steps.review.result.notes) + 1', data);
    expect(count).toBe(3);
    expect(typeof count).toBe('number');
    expect(evaluateExpression('request.payload.tags.map(t, t + "!")', data)).toEqual(['a!', 'b!']);
    expect(evaluateExpression('{"n": size(request.payload.tags), "list": [1, -2, 3.5], "nested": {"ok": true}}', data)).toEqual({
      n: 2,
      list: [1, -2, 3.5],
      nested: { ok: true },
    });
    expect(evaluateExpression('timestamp("2024-05-06T07:08:09Z")', {})).toBe('2024-05-06T07:08:09.000Z');
  });

  it('reads item and an int index', () => {
    expect(evaluateExpression('item.name + "#" + string(index + 1)', { item: { name: 'x' }, index: 4n })).toBe('x#5');
  });

  it('fails with EXPRESSION_FAILED on a runtime error, naming it', () => {
    const missing = errorOf(() => evaluateExpression('steps.draft.result.ok', data));
    expect(missing.code).toBe('EXPRESSION_FAILED');
    expect(missing.message).toMatch(/^failed: .*draft/);
    expect(errorOf(() => evaluateExpression('1 / (size(request.payload.tags) - 2)', data)).code).toBe('EXPRESSION_FAILED');
  });

  it('fails with EXPRESSION_INVALID on a syntax error or an expression too long', () => {
    expect(errorOf(() => evaluateExpression('request.payload.n >', data))).toMatchObject({ code: 'EXPRESSION_INVALID' });
    const long = errorOf(() => evaluateExpression(`"${'x'.repeat(EXPRESSION_LIMITS.maxLength)}"`, data));
    expect(long.code).toBe('EXPRESSION_INVALID');
    expect(long.message).toBe(`is ${EXPRESSION_LIMITS.maxLength + 2} characters long; at most ${EXPRESSION_LIMITS.maxLength} are allowed`);
  });

  it('refuses a result with no JSON number', () => {
    expect(errorOf(() => evaluateExpression('1.0 / 0.0', {})).message).toBe('gave Infinity, which is not a JSON number');
    expect(errorOf(() => evaluateExpression('9223372036854775807', {})).message).toBe('gave 9223372036854775807, which is too large for a JSON number');
  });

  it('stops data that makes a regular expression run for ever with EXPRESSION_TIMEOUT, and works on afterwards', () => {
    const source = `request.payload.text.matches("${CATASTROPHIC}")`;
    const started = Date.now();
    const error = errorOf(() => evaluateExpression(source, { request: { payload: { text: EVIL } } }));
    expect(error.code).toBe('EXPRESSION_TIMEOUT');
    expect(error.message).toBe(`did not finish within ${EXPRESSION_LIMITS.timeoutMs} ms (EXPRESSION_TIMEOUT_MS)`);
    expect(Date.now() - started).toBeLessThan(3_000);
    // The same (cached) expression on harmless data, and another one, still evaluate.
    expect(evaluateExpression(source, { request: { payload: { text: 'aaaa' } } })).toBe(true);
    expect(evaluateExpression(source, { request: { payload: { text: 'ab' } } })).toBe(false);
    expect(evaluateExpression('request.payload.n + 1.0', data)).toBe(4);
  });

  it('does not reach JS prototypes through __proto__ or constructor', () => {
    for (const source of ['request.payload.constructor', 'request.payload.__proto__', 'request["constructor"]', 'request.payload.tags.constructor', '{}.toString']) {
      expect(errorOf(() => evaluateExpression(source, data)).code, source).toBe('EXPRESSION_FAILED');
    }
    expect(evaluateExpression('[has(request.payload.constructor), has(request.payload.__proto__), "toString" in request.payload, "constructor" in request]', data)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    // A key of that name in the data is just data.
    const payload = JSON.parse('{"__proto__": {"y": 5}}') as unknown;
    expect(evaluateExpression('request.payload.__proto__.y', { request: { payload } })).toBe(5);
  });

  it('reads JSON objects that have a "constructor" key', () => {
    const payload = JSON.parse('{"constructor": "Gaudi", "x": 2}') as unknown;
    expect(evaluateExpression('request.payload.x', { request: { payload } })).toBe(2);
  });
});

describe('toJson', () => {
  it('turns BigInt into numbers, within the safe range', () => {
    expect(toJson(42n)).toBe(42);
    expect(toJson(-7n)).toBe(-7);
    expect(toJson(BigInt(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(toJson(BigInt(Number.MIN_SAFE_INTEGER))).toBe(Number.MIN_SAFE_INTEGER);
    expect(() => toJson(BigInt(Number.MAX_SAFE_INTEGER) + 1n)).toThrow('gave 9007199254740992, which is too large for a JSON number');
    expect(() => toJson(BigInt(Number.MIN_SAFE_INTEGER) - 1n)).toThrow(ExpressionError);
  });

  it('turns Maps into objects with string keys, and Dates into ISO strings, all the way down', () => {
    expect(
      toJson(
        new Map<unknown, unknown>([
          ['a', 1n],
          [2n, [3n, new Map([['b', true]])]],
          [true, { when: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) }],
        ]),
      ),
    ).toEqual({ a: 1, '2': [3, { b: true }], true: { when: '2024-01-02T03:04:05.000Z' } });
    expect(toJson([null, 'x', false, 1.5])).toEqual([null, 'x', false, 1.5]);
  });

  it('keeps a "__proto__" key an own field, not a prototype', () => {
    const out = toJson(new Map([['__proto__', { polluted: true }]])) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(out['polluted']).toBeUndefined();
  });

  it('refuses numbers JSON cannot hold', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(errorOf(() => toJson(value))).toMatchObject({ code: 'EXPRESSION_FAILED', message: `gave ${value}, which is not a JSON number` });
    }
    expect(errorOf(() => toJson({ deep: [1, Number.NaN] })).code).toBe('EXPRESSION_FAILED');
  });

  it('refuses values with no JSON form', () => {
    expect(errorOf(() => toJson(undefined)).message).toMatch(/no JSON form/);
    expect(errorOf(() => toJson(() => 1)).message).toMatch(/no JSON form/);
  });

  it('refuses bytes', () => {
    expect(() => toJson(new Uint8Array([1, 2]))).toThrow(ExpressionError);
  });

  it('does not turn CEL uint, duration or type values into {}', () => {
    for (const source of ['1u', 'duration("1s")', 'type(1)']) {
      let value: unknown;
      try {
        value = evaluateExpression(source, {});
      } catch {
        continue;
      }
      expect(value, source).not.toEqual({});
    }
  });

  it('refuses an invalid Date with an ExpressionError', () => {
    expect(() => toJson(new Date(Number.NaN))).toThrow(ExpressionError);
  });
});

describe('checkExpression', () => {
  it('accepts sound expressions', () => {
    expect(checkExpression('steps.review.result.approved', scope(), 'bool')).toEqual([]);
    expect(checkExpression('request.payload.n > 2 && request.priority == "HIGH"', scope(), 'bool')).toEqual([]);
    expect(checkExpression('steps.review.result.notes', scope(), 'list')).toEqual([]);
    expect(checkExpression('request.payload.tags.filter(t, t != "a")', scope(), 'list')).toEqual([]);
    expect(checkExpression('[1, 2, 3]', scope(), 'list')).toEqual([]);
    expect(checkExpression('{"at": index, "what": item.name}', scope(true))).toEqual([]);
  });

  it('refuses what is not a non-empty string', () => {
    for (const source of ['', '   ', 5, null, undefined, ['x']]) {
      expect(checkExpression(source, scope())).toEqual(['must be a CEL expression (a non-empty string)']);
    }
  });

  it('refuses a syntax error', () => {
    const [problem, ...rest] = checkExpression('request.payload.n >', scope(), 'bool');
    expect(problem).toMatch(/^is not a valid CEL expression: /);
    expect(rest).toEqual([]);
  });

  it('refuses an unknown variable', () => {
    expect(checkExpression('process.env.HOME == "x"', scope(), 'bool')).toEqual(['does not type-check: Unknown variable: process']);
  });

  it('refuses a step that is not a prerequisite, and one that does not exist', () => {
    expect(checkExpression('steps.draft.result.ok', scope(), 'bool')).toEqual(['steps.draft: step "draft" is not a prerequisite (add it to depends_on)']);
    expect(checkExpression('has(steps.draft.result)', scope(), 'bool')).toEqual(['steps.draft: step "draft" is not a prerequisite (add it to depends_on)']);
    expect(checkExpression('steps.nope.result.ok', scope(), 'bool')).toEqual(['steps.nope: no step "nope"']);
    expect(checkExpression('steps.review.result.ok || steps.nope.result.ok', scope(), 'bool')).toEqual(['steps.nope: no step "nope"']);
  });

  it('refuses steps not followed by a step id', () => {
    const message = 'steps must be followed by .<step id>, e.g. steps.review.result';
    expect(checkExpression('size(steps) > 0', scope(), 'bool')).toEqual([message]);
    expect(checkExpression('steps["draft"].result', scope())).toEqual([message]);
  });

  it('refuses item and index outside the input of a for_each step', () => {
    const message = 'item and index are there only in the input of a step with for_each';
    expect(checkExpression('item.ok', scope(), 'bool')).toEqual([message]);
    expect(checkExpression('index > 0', scope(), 'bool')).toEqual([message]);
    expect(checkExpression('item.ok', scope(true), 'bool')).toEqual([]);
    expect(checkExpression('index > 0', scope(true), 'bool')).toEqual([]);
  });

  it('refuses a result of the wrong type', () => {
    expect(checkExpression('"id-" + request.task_id', scope(), 'bool')).toEqual(['must give true or false, not string']);
    expect(checkExpression('size(request.payload.tags)', scope(), 'bool')).toEqual(['must give true or false, not int']);
    expect(checkExpression('request.priority == "HIGH"', scope(), 'list')).toEqual(['must give a list, not bool']);
    expect(checkExpression('{"a": 1}', scope(), 'list')).toEqual([expect.stringMatching(/^must give a list, not map/)]);
    // Known only when it runs: dyn passes the type check, but a constant is evaluated at once.
    expect(checkExpression('request.payload.flag', scope(), 'bool')).toEqual([]);
    expect(checkExpression('dyn("yes")', scope(), 'bool')).toEqual(['must give true or false']);
    expect(checkExpression('dyn(1)', scope(), 'list')).toEqual(['must give a list']);
    // Without an expected type anything goes.
    expect(checkExpression('request.task_id', scope())).toEqual([]);
  });

  it('refuses an expression longer than the limit', () => {
    const source = `request.payload.n > ${'1'.repeat(EXPRESSION_LIMITS.maxLength)}`;
    expect(checkExpression(source, scope(), 'bool')).toEqual([`is ${source.length} characters long; at most ${EXPRESSION_LIMITS.maxLength} are allowed`]);
  });

  it('refuses a constant expression that fails', () => {
    expect(checkExpression('1 / 0 == 1', scope(), 'bool')).toEqual([expect.stringMatching(/^failed: /)]);
    expect(checkExpression('{"n": 1.0 / 0.0}', scope())).toEqual(['gave Infinity, which is not a JSON number']);
  });

  it('refuses a constant expression that never finishes: a catastrophic regular expression', () => {
    expect(checkExpression(`"${EVIL}".matches("${CATASTROPHIC}")`, scope(), 'bool')).toEqual([`did not finish within ${EXPRESSION_LIMITS.timeoutMs} ms (EXPRESSION_TIMEOUT_MS)`]);
  });

  it('refuses a constant expression that would never finish: nested comprehensions, stopped at the step limit', () => {
    const ten = '[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]';
    // 10^8 items: some seconds of work, far beyond the limit, in an expression well within maxAstNodes.
    const source = `${ten}.map(a, ${ten}.map(b, ${ten}.map(c, ${ten}.map(d, ${ten}.map(e, ${ten}.map(f, ${ten}.map(g, ${ten}.map(h, a + h))))))))`;
    expect(checkExpression(source, scope(), 'list')).toEqual(['ran more than 100,000 evaluation steps (EXPRESSION_MAX_STEPS)']);
  });

  it("leaves a planner's constant expressions to run time: checked on the event loop, they are not evaluated", () => {
    expect(checkExpression(`"${EVIL}".matches("${CATASTROPHIC}")`, { ...scope(), constants: false }, 'bool')).toEqual([]);
  });

  it('does not evaluate an expression that reads data when checking it', () => {
    // Against the data it could run for ever, but that is for the time limit when it runs.
    expect(checkExpression(`request.payload.text.matches("${CATASTROPHIC}")`, scope(), 'bool')).toEqual([]);
  });
});
