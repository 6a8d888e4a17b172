import { describe, expect, it } from 'vitest';
import { validateAgentAnnouncement } from './agent-announcement.dto.js';
import { validateTaskRequest } from './task-request.dto.js';
import { parseTaskResponse } from './task-response.js';
import { addUsage, parseUsage, usageTokens } from './usage.js';

describe('usage', () => {
  it('reads the known fields as non-negative numbers and ignores others', () => {
    expect(parseUsage({ tokens: 10, cost: 0.5, model: 'x' })).toEqual({ ok: true, value: { tokens: 10, cost: 0.5 } });
    expect(parseUsage(undefined)).toEqual({ ok: true, value: undefined });
    expect(parseUsage(null)).toEqual({ ok: true, value: undefined });
  });

  it.each([
    [{ tokens: -1 }, 'usage.tokens: must be a non-negative number'],
    [{ cost: '1' }, 'usage.cost: must be a non-negative number'],
    [{ input_tokens: Number.POSITIVE_INFINITY }, 'usage.input_tokens: must be a non-negative number'],
    [[1], 'usage: must be an object with tokens, input_tokens, output_tokens or cost'],
    [3, 'usage: must be an object with tokens, input_tokens, output_tokens or cost'],
  ])('refuses %j naming the field', (usage, error) => {
    expect(parseUsage(usage)).toEqual({ ok: false, error });
  });

  it('counts tokens as given, else input and output together, and sums field by field', () => {
    expect(usageTokens({ tokens: 7, input_tokens: 100 })).toBe(7);
    expect(usageTokens({ input_tokens: 100, output_tokens: 20 })).toBe(120);
    expect(addUsage({ input_tokens: 100, output_tokens: 20 }, { tokens: 5, cost: 0.25 })).toEqual({ tokens: 125, input_tokens: 100, output_tokens: 20, cost: 0.25 });
    expect(addUsage(null, undefined)).toBeNull();
  });

  it('keeps a valid usage in an answer and names an invalid one, leaving it out', () => {
    const good = parseTaskResponse({ task_id: 't', status: 'COMPLETED', usage: { tokens: 3 } });
    expect(good).toMatchObject({ ok: true, value: { usage: { tokens: 3 } } });
    const bad = parseTaskResponse({ task_id: 't', status: 'COMPLETED', usage: { tokens: -3 } });
    expect(bad).toMatchObject({ ok: true, usageError: 'usage.tokens: must be a non-negative number' });
    expect(bad.ok && bad.value.usage).toBeFalsy();
  });
});

describe('a request budget', () => {
  const request = (budget: unknown) => validateTaskRequest({ task_id: 't-1', task_type: 'report', budget });

  it('takes max_tokens and max_cost', () => {
    expect(request({ max_tokens: 200_000, max_cost: 2.5, other: 1 })).toMatchObject({ ok: true, value: { budget: { max_tokens: 200_000, max_cost: 2.5 } } });
  });

  it.each([
    [{ max_tokens: -5 }, 'budget.max_tokens: must be a non-negative number'],
    [{ max_cost: 'lots' }, 'budget.max_cost: must be a non-negative number'],
    [{}, 'budget: must have max_tokens or max_cost'],
    [7, 'budget: must be an object with max_tokens or max_cost'],
  ])('refuses %j naming the field', (budget, error) => {
    expect(request(budget)).toEqual({ ok: false, error });
  });
});

describe('an announced rate limit', () => {
  const announcement = (rate_limit: unknown) => validateAgentAnnouncement({ name: 'llm_agent', instance_id: 'i-1', agent_type: 'llm', capabilities: [], ts: 1, rate_limit });

  it('is read as announced', () => {
    expect(announcement({ limit: 60, per: 'minute' })).toMatchObject({ ok: true, value: { rate_limit: { limit: 60, per: 'minute' } } });
  });

  it.each([
    [{ limit: 0, per: 'minute' }, 'rate_limit.limit: must be at least 1'],
    [{ limit: 5, per: 'day' }, 'rate_limit.per: must be one of second, minute, hour'],
    [{ limit: 1.5, per: 'second' }, 'rate_limit.limit: must be an integer'],
  ])('refuses %j naming the field', (rate, error) => {
    expect(announcement(rate)).toEqual({ ok: false, error });
  });
});
