import { TaskStatus } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import type { TaskRow } from '../persistence/task-rows.js';
import type { Plan, PlannedStep } from '../planning/plan.js';
import { decide } from './decide.js';

function planned(id: string, depends_on: string[] = [], optional = false): PlannedStep {
  return {
    id,
    agent: 'agent',
    capability: null,
    task_type: 'work',
    depends_on,
    input: {},
    timeout_ms: 1_000,
    max_attempts: 1,
    backoff: { initial_ms: 10, max_ms: 100 },
    fallbacks: [],
    optional,
  };
}

function row(step_key: string, status: TaskStatus, attempts = 0): TaskRow {
  return {
    id: `id-${step_key}`, parent_id: 'root', root_id: 'root', step_key, task_type: 'work', agent_name: 'agent', status, attempts,
    max_attempts: 1, next_attempt_at: null, deadline_at: null, error: null, started_at: null, completed_at: null, updated_at: new Date(),
    item_count: null, items_started: 0, items_done: 0, waiting_on: null, queue_rank: null, usage: null, wait_key: null,
  };
}

const steps = (...rows: TaskRow[]): Map<string, TaskRow> => new Map(rows.map((r) => [r.step_key, r]));

// a -> (b, c) -> d, with c optional
const plan: Plan = {
  task_type: 'diamond',
  version: 1,
  steps: [planned('a'), planned('b', ['a']), planned('c', ['a'], true), planned('d', ['b', 'c'])],
  output: null,
  timeout_ms: null,
};

describe('decide', () => {
  it('starts with the steps that depend on nothing', () => {
    const decision = decide(plan, steps(...['a', 'b', 'c', 'd'].map((k) => row(k, TaskStatus.Pending))));
    expect(decision.outcome).toEqual({ kind: 'running' });
    expect(decision.ready.map((s) => s.step_key)).toEqual(['a']);
  });

  it('fans out once the prerequisite completed, and waits for every branch to fan in', () => {
    const fanOut = decide(plan, steps(row('a', TaskStatus.Completed, 1), row('b', TaskStatus.Pending), row('c', TaskStatus.Pending), row('d', TaskStatus.Pending)));
    expect(fanOut.ready.map((s) => s.step_key)).toEqual(['b', 'c']);
    const halfway = decide(plan, steps(row('a', TaskStatus.Completed, 1), row('b', TaskStatus.Completed, 1), row('c', TaskStatus.Running, 1), row('d', TaskStatus.Pending)));
    expect(halfway.ready).toEqual([]);
    expect(halfway.outcome).toEqual({ kind: 'running' });
  });

  it('lets dependents of a failed optional step run', () => {
    const decision = decide(plan, steps(row('a', TaskStatus.Completed, 1), row('b', TaskStatus.Completed, 1), row('c', TaskStatus.Failed, 1), row('d', TaskStatus.Pending)));
    expect(decision.ready.map((s) => s.step_key)).toEqual(['d']);
  });

  it('does not schedule a step twice', () => {
    const waiting = row('a', TaskStatus.Pending, 1);
    waiting.next_attempt_at = new Date();
    expect(decide(plan, steps(waiting, row('b', TaskStatus.Pending), row('c', TaskStatus.Pending), row('d', TaskStatus.Pending))).ready).toEqual([]);
  });

  it('fails on a failed required step and completes when every step is settled', () => {
    const failed = decide(plan, steps(row('a', TaskStatus.Completed, 1), row('b', TaskStatus.Failed, 1), row('c', TaskStatus.Running, 1), row('d', TaskStatus.Pending)));
    expect(failed.outcome).toMatchObject({ kind: 'failed', step: { step_key: 'b' } });
    const done = decide(plan, steps(row('a', TaskStatus.Completed, 1), row('b', TaskStatus.Completed, 1), row('c', TaskStatus.Failed, 1), row('d', TaskStatus.Completed, 1)));
    expect(done.outcome).toEqual({ kind: 'completed' });
  });

  it('refuses to decide for rows that miss a step of the plan', () => {
    expect(() => decide(plan, steps(row('a', TaskStatus.Completed, 1)))).toThrow('workflow state has no row for step "b"');
  });
});
