/**
 * Values written into the text of a statement. Statements that share one round trip to the
 * server (a transition opens with `BEGIN`, its lock and its reads; it closes with its writes and
 * `COMMIT`) go as one simple query, which takes no parameters; each still runs with a snapshot
 * of its own. Everything such a statement holds is built here, and only here.
 */
export type SqlType = 'uuid' | 'text' | 'int' | 'float8' | 'bool' | 'timestamptz' | 'jsonb';

/** A string literal: quotes doubled, and backslashes too in an escape string, whatever standard_conforming_strings says. */
export function quote(text: string): string {
  const doubled = text.replaceAll("'", "''");
  return text.includes('\\') ? `E'${doubled.replaceAll('\\', '\\\\')}'` : `'${doubled}'`;
}

export function literal(value: unknown, type: SqlType): string {
  if (value === null || value === undefined) return 'NULL';
  switch (type) {
    case 'int':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new TypeError(`not an integer: ${typeof value}`);
      return String(value);
    case 'float8':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`not a finite number: ${typeof value}`);
      return String(value);
    case 'bool':
      return value === true ? 'TRUE' : 'FALSE';
    case 'timestamptz':
      if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new TypeError(`not a time: ${typeof value}`);
      return `'${value.toISOString()}'`;
    case 'jsonb':
      return jsonLiteral(value);
    case 'uuid':
    case 'text':
      if (typeof value !== 'string') throw new TypeError(`not a string: ${typeof value}`);
      return quote(value);
  }
}

/** Literals of frozen values (the plans workflows share), written once. */
const frozenLiterals = new WeakMap<object, string>();

function jsonLiteral(value: unknown): string {
  if (typeof value !== 'object' || value === null || !Object.isFrozen(value)) return quote(JSON.stringify(value));
  let known = frozenLiterals.get(value);
  if (known === undefined) frozenLiterals.set(value, (known = quote(JSON.stringify(value))));
  return known;
}

/** An array of values of one type, e.g. `ARRAY['a','b']::text[]`. */
export function arrayOf(values: readonly unknown[], type: SqlType): string {
  return values.length === 0 ? `'{}'::${type}[]` : `ARRAY[${values.map((value) => literal(value, type)).join(',')}]::${type}[]`;
}
