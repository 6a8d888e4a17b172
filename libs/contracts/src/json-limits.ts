/**
 * What JSON the platform stores and forwards: PostgreSQL's jsonb refuses the NUL character and
 * unpaired UTF-16 surrogates (both legal in JSON text), and very deep nesting overflows the
 * stack of whoever serializes it next. A value is checked once, where it enters, so that no later
 * step meets a value it cannot take.
 */
/** A JSON object: not null, not an array. (Here, in the one module of this package that loads nothing else, for code that must start fast: `@orchestrator/contracts/json`.) */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const JSON_LIMITS = {
  /** Objects and arrays inside each other, the outermost one counting as 1. */
  maxDepth: 64,
} as const;

/** A NUL, or a surrogate without its pair (in `u` mode a pair is one code point, so only lone ones match). */
// eslint-disable-next-line no-control-regex -- the NUL character is exactly what is looked for
const UNSTORABLE_TEXT = /[\u0000\ud800-\udfff]/u;
// eslint-disable-next-line no-control-regex -- as above
const UNSTORABLE_TEXT_ALL = /[\u0000\ud800-\udfff]/gu;

function textProblem(text: string): string | null {
  if (!UNSTORABLE_TEXT.test(text)) return null;
  return text.includes('\u0000') ? 'contains a NUL character (\\u0000)' : 'contains an unpaired UTF-16 surrogate';
}

/**
 * The first reason `value` cannot be stored as it is, named by its path (`result.items[3].name:
 * contains a NUL character`), or null when it can. Iterative, so that no depth of nesting
 * overflows the stack while checking it.
 */
export function jsonValueProblem(value: unknown, path: string, maxDepth: number = JSON_LIMITS.maxDepth): string | null {
  const pending: { value: unknown; path: string; depth: number }[] = [{ value, path, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value: current, path: where, depth } = next;
    if (typeof current === 'string') {
      const problem = textProblem(current);
      if (problem) return `${where}: ${problem}`;
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth + 1 > maxDepth) return `${where}: is nested deeper than ${maxDepth} levels`;
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) pending.push({ value: current[i], path: `${where}[${i}]`, depth: depth + 1 });
      continue;
    }
    const entries = Object.entries(current as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i] ?? ['', undefined];
      const keyProblem = textProblem(key);
      if (keyProblem) return `${where}: a field name ${keyProblem}`;
      pending.push({ value: item, path: `${where}.${key}`, depth: depth + 1 });
    }
  }
  return null;
}

/** `text` with what jsonb and text columns refuse replaced by U+FFFD, for messages we only keep. */
export function storableText(text: string): string {
  return UNSTORABLE_TEXT.test(text) ? text.replace(UNSTORABLE_TEXT_ALL, '\ufffd') : text;
}
