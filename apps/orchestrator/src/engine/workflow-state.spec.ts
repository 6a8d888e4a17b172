import { TaskPriority, TaskStatus } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import type { TaskEntity } from '../persistence/task.entity.js';
import type { Plan, PlannedStep } from '../planning/plan.js';
import { decide, parseSubtaskWireId, subtaskWireId } from './workflow-state.js';

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

function row(step_key: string, status: TaskStatus, attempts = 0): TaskEntity {
  const now = new Date();
  return {
    id: `id-${step_key}`, task_id: `id-${step_key}`, parent_id: 'root', root_id: 'root', task_type: 'work', step_key,
    agent_name: 'agent', status, priority: TaskPriority.Normal, attempts, max_attempts: 1, next_attempt_at: null,
    deadline_at: null, payload: {}, result: null, error: null, requester_id: null, reply_to: null, plan: null, plan_history: null,
    response_sent_at: null, trace_parent: null, created_at: now, updated_at: now, started_at: null, completed_at: null,
  };
}

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
    const decision = decide(plan, ['a', 'b', 'c', 'd'].map((k) => row(k, TaskStatus.Pending)));
    expect(decision.outcome).toEqual({ kind: 'running' });
    expect(decision.ready.map((s) => s.step_key)).toEqual(['a']);
  });

  it('fans out once the prerequisite completed, and waits for every branch to fan in', () => {
    const fanOut = decide(plan, [row('a', TaskStatus.Completed, 1), row('b', TaskStatus.Pending), row('c', TaskStatus.Pending), row('d', TaskStatus.Pending)]);
    expect(fanOut.ready.map((s) => s.step_key)).toEqual(['b', 'c']);
    const halfway = decide(plan, [row('a', TaskStatus.Completed, 1), row('b', TaskStatus.Completed, 1), row('c', TaskStatus.Running, 1), row('d', TaskStatus.Pending)]);
    expect(halfway.ready).toEqual([]);
    expect(halfway.outcome).toEqual({ kind: 'running' });
  });

  it('lets dependents of a failed optional step run', () => {
    const decision = decide(plan, [row('a', TaskStatus.Completed, 1), row('b', TaskStatus.Completed, 1), row('c', TaskStatus.Failed, 1), row('d', TaskStatus.Pending)]);
    expect(decision.ready.map((s) => s.step_key)).toEqual(['d']);
  });

  it('does not schedule a step twice', () => {
    const waiting = row('a', TaskStatus.Pending, 1);
    waiting.next_attempt_at = new Date();
    expect(decide(plan, [waiting, row('b', TaskStatus.Pending), row('c', TaskStatus.Pending), row('d', TaskStatus.Pending)]).ready).toEqual([]);
  });

  it('fails on a failed required step and completes when every step is settled', () => {
    const failed = decide(plan, [row('a', TaskStatus.Completed, 1), row('b', TaskStatus.Failed, 1), row('c', TaskStatus.Running, 1), row('d', TaskStatus.Pending)]);
    expect(failed.outcome).toMatchObject({ kind: 'failed', step: { step_key: 'b' } });
    const done = decide(plan, [row('a', TaskStatus.Completed, 1), row('b', TaskStatus.Completed, 1), row('c', TaskStatus.Failed, 1), row('d', TaskStatus.Completed, 1)]);
    expect(done.outcome).toEqual({ kind: 'completed' });
  });
});

describe('sub-task wire ids', () => {
  it('round-trips a step id and attempt', () => {
    const id = '0b7f6f5e-2d1c-4c3b-9a8f-7e6d5c4b3a21';
    expect(parseSubtaskWireId(subtaskWireId(id, 3))).toEqual({ stepId: id, attempt: 3 });
  });

  it.each(['blog-1', 'x:1', '0b7f6f5e-2d1c-4c3b-9a8f-7e6d5c4b3a21:0', '0b7f6f5e-2d1c-4c3b-9a8f-7e6d5c4b3a21:one'])(
    'rejects %s',
    (wireId) => expect(parseSubtaskWireId(wireId)).toBeNull(),
  );
});
