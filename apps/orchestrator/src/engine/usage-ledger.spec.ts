import { describe, expect, it } from 'vitest';
import type { RootRow } from '../persistence/task-rows.js';
import { budgetExceeded, budgetLeft } from './usage-ledger.js';

describe('budgets', () => {
  it('says nothing within the budget, or without one', () => {
    expect(budgetExceeded({ max_tokens: 200_000 }, { tokens: 200_000 })).toBeNull();
    expect(budgetExceeded(null, { tokens: 10 })).toBeNull();
    expect(budgetExceeded({ max_cost: 1 }, null)).toBeNull();
  });

  it('names what was spent past the budget, in grouped numbers', () => {
    expect(budgetExceeded({ max_tokens: 200_000 }, { tokens: 201_340 })).toBe('budget exceeded: 201,340 tokens of 200,000');
    expect(budgetExceeded({ max_tokens: 1_000 }, { input_tokens: 900, output_tokens: 200 })).toBe('budget exceeded: 1,100 tokens of 1,000');
    expect(budgetExceeded({ max_cost: 10 }, { cost: 10.52 })).toBe('budget exceeded: 10.52 cost of 10');
    expect(budgetExceeded({ max_tokens: 5, max_cost: 1 }, { tokens: 6, cost: 2 })).toBe('budget exceeded: 6 tokens of 5');
  });

  it('gives a child workflow what its parent has left, never below nothing', () => {
    const root = (budget: RootRow['budget'], usage: RootRow['usage']): RootRow => ({ budget, usage }) as RootRow;
    expect(budgetLeft(root({ max_tokens: 1_000, max_cost: 2 }, { tokens: 100, cost: 0.5 }))).toEqual({ max_tokens: 900, max_cost: 1.5 });
    expect(budgetLeft(root({ max_tokens: 1_000 }, null))).toEqual({ max_tokens: 1_000 });
    expect(budgetLeft(root({ max_tokens: 1_000 }, { tokens: 1_200 }))).toEqual({ max_tokens: 0 });
    expect(budgetLeft(root(null, { tokens: 1 }))).toBeUndefined();
  });
});
