import { isPlainObject } from './validation.js';

/** What a sub-task cost, as its agent reports it in its answer (`usage`), and what a workflow spent in all. */
export interface Usage {
  tokens?: number;
  input_tokens?: number;
  output_tokens?: number;
  cost?: number;
}

export const USAGE_FIELDS = ['tokens', 'input_tokens', 'output_tokens', 'cost'] as const;

/** What a run may spend (`budget` of a workflow file or of a request). */
export interface Budget {
  max_tokens?: number;
  max_cost?: number;
}

export const BUDGET_FIELDS = ['max_tokens', 'max_cost'] as const;

/** Reads `usage` strictly: an object whose known fields are non-negative finite numbers (others are ignored); absent or null is none. */
export function parseUsage(input: unknown): { ok: true; value: Usage | undefined } | { ok: false; error: string } {
  if (input === undefined || input === null) return { ok: true, value: undefined };
  if (!isPlainObject(input)) return { ok: false, error: 'usage: must be an object with tokens, input_tokens, output_tokens or cost' };
  const usage: Usage = {};
  for (const field of USAGE_FIELDS) {
    const value = input[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return { ok: false, error: `usage.${field}: must be a non-negative number` };
    usage[field] = value;
  }
  return { ok: true, value: usage };
}

/** The tokens a usage counts against a budget: `tokens` when given, else input and output tokens together. */
export function usageTokens(usage: Usage): number {
  return usage.tokens ?? (usage.input_tokens ?? 0) + (usage.output_tokens ?? 0);
}

/** Two usages summed, field by field (`tokens` as usageTokens counts them); null when both are. */
export function addUsage(a: Usage | null | undefined, b: Usage | null | undefined): Usage | null {
  if (!a && !b) return null;
  const sum: Usage = {};
  for (const field of USAGE_FIELDS) {
    const x = field === 'tokens' ? (a ? usageTokens(a) : undefined) : a?.[field];
    const y = field === 'tokens' ? (b ? usageTokens(b) : undefined) : b?.[field];
    if (x !== undefined || y !== undefined) sum[field] = (x ?? 0) + (y ?? 0);
  }
  return sum;
}
