import { describe, expect, it } from 'vitest';
import { arrayOf, literal, quote } from './sql-text.js';

describe('values in statement text', () => {
  it('quotes strings so that no quote or backslash ends them', () => {
    expect(quote("it's")).toBe("'it''s'");
    expect(quote('a\\b')).toBe("E'a\\\\b'");
    expect(quote("x\\'; DROP TABLE tasks; --")).toBe("E'x\\\\''; DROP TABLE tasks; --'");
  });

  it('writes JSON as a quoted jsonb value', () => {
    expect(literal({ a: "o'k", b: [1, null] }, 'jsonb')).toBe(`'{"a":"o''k","b":[1,null]}'`);
    expect(literal({ path: 'C:\\dir' }, 'jsonb')).toBe(`E'{"path":"C:\\\\\\\\dir"}'`);
  });

  it('refuses a value that is not of its type rather than writing it', () => {
    expect(() => literal('1; DROP TABLE tasks', 'int')).toThrow(TypeError);
    expect(() => literal(1.5, 'int')).toThrow(TypeError);
    expect(() => literal('2026-01-01', 'timestamptz')).toThrow(TypeError);
    expect(() => literal(7, 'uuid')).toThrow(TypeError);
  });

  it('writes arrays, empty ones and nulls included', () => {
    expect(arrayOf([], 'uuid')).toBe("'{}'::uuid[]");
    expect(arrayOf(['a', null], 'text')).toBe("ARRAY['a',NULL]::text[]");
    expect(arrayOf([new Date(0), null], 'timestamptz')).toBe("ARRAY['1970-01-01T00:00:00.000Z',NULL]::timestamptz[]");
    expect(arrayOf([true, false], 'bool')).toBe('ARRAY[TRUE,FALSE]::bool[]');
  });
});
