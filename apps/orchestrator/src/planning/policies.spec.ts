import { describe, expect, it } from 'vitest';
import {
  checkConcurrencyKey,
  concurrencyKeyOf,
  evaluateKey,
  readBudget,
  readConcurrency,
  readRateLimit,
  shownConcurrencyKey,
  storedConcurrencyKey,
} from './policies.js';
import { parseAgentRates, parseRate } from '../config/app-config.js';
import { parseWorkflowDefinition } from './workflow-definition.js';

const request = { task_id: 't-1', task_type: 'report', priority: 'NORMAL', payload: { customer: 'acme', n: 3, nested: { a: 1 } }, requester_id: 'gateway' };

describe('concurrency keys', () => {
  it('is the task type without a key expression', () => {
    expect(concurrencyKeyOf({ key: null, max_runs: 1, strategy: 'queue' }, request)).toBe('report');
  });

  it('evaluates the key expression over the request', () => {
    const policy = (key: string) => ({ key, max_runs: 2, strategy: 'queue' as const });
    expect(concurrencyKeyOf(policy('request.payload.customer'), request)).toBe('acme');
    expect(concurrencyKeyOf(policy('request.requester_id + ":" + request.payload.customer'), request)).toBe('gateway:acme');
    expect(concurrencyKeyOf(policy('request.payload.n'), request)).toBe('3');
    expect(concurrencyKeyOf(policy('request.payload.n > 2'), request)).toBe('true');
  });

  it('refuses a key that is not a short scalar, naming why', () => {
    expect(() => evaluateKey('request.payload.nested', { request })).toThrow('gave object; a key must be a string, a number or a boolean');
    expect(() => evaluateKey('[1, 2]', { request })).toThrow('gave a list');
    expect(() => evaluateKey('""', { request })).toThrow('gave an empty string');
    expect(() => evaluateKey('"x" + "y".repeat(300)', { request })).toThrow();
    expect(() => evaluateKey('request.payload.missing', { request })).toThrow(/missing/);
  });

  it('keeps the keys of two workflows apart, and shows a key as it was given', () => {
    const stored = storedConcurrencyKey('report', 'a/b');
    expect(stored).not.toBe(storedConcurrencyKey('invoice', 'a/b'));
    expect(shownConcurrencyKey(stored)).toBe('a/b');
  });

  it('checks a key expression reads the request only', () => {
    expect(checkConcurrencyKey('request.payload.customer')).toEqual([]);
    expect(checkConcurrencyKey('steps.a.result.x')).toEqual(['steps.a: no step "a"']);
    expect(checkConcurrencyKey('request.payload.')).toHaveLength(1);
  });

  it('reads a policy with the queue strategy by default', () => {
    expect(readConcurrency({ max_runs: 2 })).toEqual({ key: null, max_runs: 2, strategy: 'queue' });
    expect(readConcurrency({ key: 'request.payload.c', max_runs: 1, strategy: 'cancel_newest' })).toEqual({ key: 'request.payload.c', max_runs: 1, strategy: 'cancel_newest' });
    expect(readConcurrency(3)).toBeUndefined();
  });
});

describe('rates and budgets', () => {
  it('parses a rate as configuration writes it', () => {
    expect(parseRate('60/minute')).toEqual({ limit: 60, per: 'minute' });
    expect(parseRate(' 20 / second ')).toEqual({ limit: 20, per: 'second' });
    for (const bad of ['60', '0/second', '60/day', 'x/minute', '-1/hour', '1000001/hour']) expect(typeof parseRate(bad)).toBe('string');
  });

  it('parses AGENT_RATE_LIMITS by agent, naming the part that is wrong', () => {
    const rates = parseAgentRates('llm_agent=60/minute, reviewer=5/second');
    expect(rates).toEqual(new Map([['llm_agent', { limit: 60, per: 'minute' }], ['reviewer', { limit: 5, per: 'second' }]]));
    expect(parseAgentRates('')).toEqual(new Map());
    expect(parseAgentRates('llm_agent')).toBe('"llm_agent" must be <agent name>=<limit>/<second|minute|hour>');
    expect(parseAgentRates('llm_agent=5/week')).toMatch(/^llm_agent: must be/);
    expect(parseAgentRates('Bad.Name=5/second')).toMatch(/must be <agent name>/);
  });

  it('reads a step rate limit and a budget', () => {
    expect(readRateLimit({ limit: 20, per: 'second', key: 'request.payload.c' })).toEqual({ limit: 20, per: 'second', key: 'request.payload.c' });
    expect(readRateLimit({ limit: 20, per: 'fortnight' })).toBeUndefined();
    expect(readBudget({ max_tokens: 200_000, max_cost: 1.5 })).toEqual({ max_tokens: 200_000, max_cost: 1.5 });
  });
});

describe('policies in a workflow file', () => {
  const file = (extra: Record<string, unknown>, stepExtra: Record<string, unknown> = {}) =>
    parseWorkflowDefinition({ task_type: 'flow', version: 1, steps: [{ id: 'a', agent: 'w', task_type: 'x', ...stepExtra }], ...extra }, 'workflows/flow.yaml', 'flow');

  it('reads concurrency, budget and a step rate limit', () => {
    const { definition, problems } = file(
      { concurrency: { key: 'request.payload.customer', max_runs: 2, strategy: 'cancel_in_progress' }, budget: { max_tokens: 1000 } },
      { rate_limit: { limit: 5, per: 'minute' } },
    );
    expect(problems).toEqual([]);
    expect(definition?.concurrency).toEqual({ key: 'request.payload.customer', max_runs: 2, strategy: 'cancel_in_progress' });
    expect(definition?.budget).toEqual({ max_tokens: 1000 });
    expect(definition?.steps[0]?.rate_limit).toEqual({ limit: 5, per: 'minute' });
  });

  it('names what is wrong with them', () => {
    expect(file({ concurrency: { max_runs: 0 } }).problems).toEqual(['workflows/flow.yaml: concurrency.max_runs: must be an integer from 1 to 100000']);
    expect(file({ concurrency: { max_runs: 1, key: 'steps.a.result' } }).problems).toEqual(['workflows/flow.yaml: concurrency.key: steps.a: no step "a"']);
    expect(file({ concurrency: { max_runs: 1, strategy: 'newest' } }).problems).toHaveLength(1);
    expect(file({ budget: { max_tokens: -1 } }).problems).toHaveLength(1);
    expect(file({}, { rate_limit: { limit: 5 } }).problems).toHaveLength(1);
    expect(file({}, { rate_limit: { limit: 5, per: 'second', key: 'steps.zz.result' } }).problems).toEqual(['workflows/flow.yaml: steps[0] (a).rate_limit.key: steps.zz: no step "zz"']);
  });
});
