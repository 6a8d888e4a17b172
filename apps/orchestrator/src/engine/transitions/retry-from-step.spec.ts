import { describe, expect, it } from 'vitest';
import type { Plan, PlannedStep } from '../../planning/plan.js';
import { downstreamOf } from './retry-from-step.js';

const step = (id: string, depends_on: string[] = []): PlannedStep =>
  ({ id, depends_on, agent: 'a', capability: null, task_type: 't', input: {}, timeout_ms: 1000, max_attempts: 1, backoff: { initial_ms: 1, max_ms: 1 }, fallbacks: [], optional: false });

describe('downstreamOf', () => {
  // a -> b -> d, a -> c -> d, e alone
  const plan: Plan = { task_type: 'x', version: 1, output: null, timeout_ms: null, steps: [step('a'), step('b', ['a']), step('c', ['a']), step('d', ['b', 'c']), step('e')] };

  it('is the step and every step that depends on it, directly or not, in plan order', () => {
    expect(downstreamOf(plan, 'a')).toEqual(['a', 'b', 'c', 'd']);
    expect(downstreamOf(plan, 'b')).toEqual(['b', 'd']);
    expect(downstreamOf(plan, 'd')).toEqual(['d']);
    expect(downstreamOf(plan, 'e')).toEqual(['e']);
  });

  it('follows dependencies whatever order the plan lists its steps in', () => {
    const listed: Plan = { ...plan, steps: [step('d', ['c']), step('c', ['b']), step('b', ['a']), step('a')] };
    expect(downstreamOf(listed, 'b')).toEqual(['d', 'c', 'b']);
  });
});
