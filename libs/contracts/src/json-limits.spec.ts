import { describe, expect, it } from 'vitest';
import { jsonValueProblem, storableText } from './json-limits.js';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { v: value };
  return value;
}

describe('jsonValueProblem', () => {
  it('takes plain JSON, emoji (paired surrogates) included', () => {
    expect(jsonValueProblem({ a: [1, 'two', { three: true, four: null }], smile: '😀 ok' }, 'result')).toBeNull();
  });

  it('names the path of a NUL character in a value and in a field name', () => {
    expect(jsonValueProblem({ items: [{ name: 'ok' }, { name: 'a\u0000b' }] }, 'result')).toBe('result.items[1].name: contains a NUL character (\\u0000)');
    expect(jsonValueProblem({ outer: { ['k\u0000']: 1 } }, 'result')).toBe('result.outer: a field name contains a NUL character (\\u0000)');
  });

  it('refuses unpaired surrogates, high or low', () => {
    expect(jsonValueProblem({ text: 'x\ud800' }, 'result')).toBe('result.text: contains an unpaired UTF-16 surrogate');
    expect(jsonValueProblem(['\udc00y'], 'payload')).toBe('payload[0]: contains an unpaired UTF-16 surrogate');
  });

  it('counts the outermost object as level 1 and refuses one level more than allowed', () => {
    expect(jsonValueProblem(nested(8), 'result', 8)).toBeNull();
    expect(jsonValueProblem(nested(9), 'result', 8)).toMatch(/^result(\[0\]|\.v)*: is nested deeper than 8 levels$/);
  });

  it('checks nesting far beyond the stack without overflowing it', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    expect(jsonValueProblem(deep, 'result')).toMatch(/is nested deeper than 64 levels$/);
  });
});

describe('storableText', () => {
  it('replaces what text columns refuse and leaves the rest', () => {
    expect(storableText('a\u0000b\ud800c😀')).toBe('a\ufffdb\ufffdc😀');
    expect(storableText('plain')).toBe('plain');
  });
});
