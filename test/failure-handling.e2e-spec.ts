import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from '@orchestrator/agent-sdk';
import { ORCHESTRATOR_CANCEL_SUBJECT, ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');
const SWEEP_INTERVAL_MS = 200;

interface StepRow {
  step_key: string;
  status: string;
  attempts: number;
  agent_name: string;
  error: string | null;
}

describe('failure handling', () => {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const flakyCalls = new Map<string, number[]>();
  /** The sub-tasks whose handler saw a cancel, by the agent that ran it. */
  const cancelled: { agent: string; taskId: string }[] = [];

  function agent(name: string, work: (payload: Record<string, unknown>, taskId: string, signal: AbortSignal, agentName: string) => Promise<Record<string, unknown>>): Agent {
    const a = new Agent({ name, agentType: 'test', natsUrl: testEnv().natsUrl, heartbeatIntervalMs: 1000 });
    return a.handle('e2e_work', (payload, ctx) => work(payload, ctx.taskId, ctx.signal, name));
  }

  const untilCancelled = (taskId: string, signal: AbortSignal, agentName: string): Promise<never> =>
    new Promise((_, reject) => {
      const stop = (why: string): void => reject(new Error(why));
      signal.addEventListener('abort', () => {
        cancelled.push({ agent: agentName, taskId });
        stop('cancelled');
      });
      void released.then(() => stop('released'));
    });

  /** The wire id of the attempt a step of a workflow is running (or ran last). */
  async function subtaskOf(taskId: string, step: string): Promise<string> {
    const [row] = await stack.db.query<{ id: string; attempts: number }>(
      `SELECT s.id, s.attempts FROM tasks s JOIN tasks r ON s.root_id = r.id WHERE r.task_id = $1 AND r.parent_id IS NULL AND s.step_key = $2`,
      [taskId, step],
    );
    if (!row) throw new Error(`${taskId} has no step ${step}`);
    return `${row.id}:${row.attempts}`;
  }

  /** Waits until the agent's handler of this sub-task saw its cancel. */
  const cancelSeen = (agentName: string, subtaskId: string): Promise<true> =>
    waitFor(`${agentName} to see the cancel of ${subtaskId}`, () => (cancelled.some((c) => c.agent === agentName && c.taskId === subtaskId) ? true : undefined));

  async function stepsOf(taskId: string): Promise<StepRow[]> {
    return stack.db.query<StepRow>(
      `SELECT s.step_key, s.status, s.attempts, s.agent_name, s.error FROM tasks s JOIN tasks r ON s.root_id = r.id
        WHERE r.task_id = $1 AND r.parent_id IS NULL AND s.parent_id IS NOT NULL ORDER BY s.step_key`,
      [taskId],
    );
  }

  const stack = useTestStack({
    workflowsDir: FIXTURES,
    env: { SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS) },
    agentsFirst: true,
    agents: [
      agent('e2e_flaky', (_payload, taskId) => {
        const [stepId, attempt] = taskId.split(':');
        const calls = flakyCalls.get(stepId ?? '') ?? [];
        calls.push(Date.now());
        flakyCalls.set(stepId ?? '', calls);
        return Number(attempt) < 3 ? Promise.reject(new Error(`flaky failure ${attempt}`)) : Promise.resolve({ attempt: Number(attempt) });
      }),
      agent('e2e_silent', (_payload, taskId, signal, name) => untilCancelled(taskId, signal, name)),
      agent('e2e_slow', (_payload, taskId, signal, name) => untilCancelled(taskId, signal, name)),
      agent('e2e_backup', (payload) => Promise.resolve({ echo: payload, by: 'e2e_backup' })),
      agent('e2e_broken', () => Promise.reject(new Error('broken on purpose'))),
    ],
  });
  // Before the stack stops its agents, which wait for the handlers still holding a task.
  afterAll(() => release());

  it('retries a failing agent with backoff until its third attempt completes', async () => {
    const response = await stack.submit({ task_id: 'flaky-1', task_type: 'e2e_flaky' });
    expect(response).toMatchObject({ status: 'COMPLETED', result: { steps: { only: { attempt: 3 } } } });
    expect(await stepsOf('flaky-1')).toMatchObject([{ status: 'COMPLETED', attempts: 3, error: null }]);
    const [calls] = [...flakyCalls.values()];
    expect(calls).toHaveLength(3);
    // Full jitter: each backoff is drawn in [0, min(max, initial * 2^(n-1))): 300 ms, then 600 ms at most.
    // Each retry came no sooner than its backoff, and no later than that plus a sweep and room for a loaded machine.
    const events = (await stack.get<{ items: { kind: string; data: { backoff_ms: number } }[] }>('/tasks/flaky-1/events')).items;
    const backoffs = events.filter((e) => e.kind === 'retried').map((e) => e.data.backoff_ms);
    expect(backoffs).toHaveLength(2);
    const [first, second, third] = calls as [number, number, number];
    const gaps = [second - first, third - second];
    console.log(`backoff gaps: ${gaps.join(' ms, ')} ms for backoffs of ${backoffs.join(' ms, ')} ms (ceilings 300 and 600 ms, sweep every ${SWEEP_INTERVAL_MS} ms)`);
    for (const [i, ceiling] of [300, 600].entries()) {
      const backoff = backoffs[i] ?? -1;
      expect(backoff).toBeGreaterThanOrEqual(0);
      expect(backoff).toBeLessThan(ceiling);
      expect(gaps[i]).toBeGreaterThanOrEqual(backoff);
      expect(gaps[i]).toBeLessThan(backoff + SWEEP_INTERVAL_MS + 3_000);
    }
    // Structured logs: JSON lines, those about the workflow carrying its task_id.
    const lines = readFileSync(stack.orchestrator.logFile, 'utf8').split('\n').filter((line) => line.startsWith('{'));
    const retries = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => String(l['msg']).includes('retry in'));
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(retries.every((l) => l['task_id'] === 'flaky-1' && l['level'] === 30 && l['context'] === 'StepTransitions')).toBe(true);
  });

  it('moves to the fallback agent when the first one never answers', async () => {
    const started = Date.now();
    const response = await stack.submit({ task_id: 'silent-1', task_type: 'e2e_timeout_fallback', payload: { n: 1 } });
    const elapsed = Date.now() - started;
    expect(response).toMatchObject({ status: 'COMPLETED', result: { steps: { only: { by: 'e2e_backup' } } } });
    expect(await stepsOf('silent-1')).toMatchObject([{ status: 'COMPLETED', attempts: 2, agent_name: 'e2e_backup' }]);
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    // The silent agent was told to stop its timed-out attempt.
    await cancelSeen('e2e_silent', (await subtaskOf('silent-1', 'only')).replace(/:\d+$/, ':1'));
    console.log(`timeout then fallback: ${elapsed} ms (step timeout 1000 ms)`);
  });

  it('moves to the fallback agent at once when no agent is subscribed', async () => {
    const started = Date.now();
    const response = await stack.submit({ task_id: 'absent-1', task_type: 'e2e_absent_fallback' });
    const elapsed = Date.now() - started;
    expect(response).toMatchObject({ status: 'COMPLETED', result: { steps: { only: { by: 'e2e_backup' } } } });
    const [step] = await stepsOf('absent-1');
    expect(step).toMatchObject({ status: 'COMPLETED', attempts: 2, agent_name: 'e2e_backup' });
    console.log(`no responders then fallback: ${elapsed} ms (step timeout 20000 ms)`);
    expect(elapsed).toBeLessThan(10_000);
  });

  it('fails the workflow naming the step, cancels running siblings and keeps partial results', async () => {
    const response = await stack.submit({ task_id: 'broken-1', task_type: 'e2e_parallel_fail' });
    expect(response).toMatchObject({ status: 'FAILED', success: false });
    expect(response['error']).toBe('step "broken" (agent e2e_broken) failed after 2 attempts: broken on purpose');
    expect(response['result']).toMatchObject({
      failed_step: 'broken',
      failed_agent: 'e2e_broken',
      steps: { start: { by: 'e2e_backup' } },
    });
    const steps = await stepsOf('broken-1');
    expect(steps.map((s) => [s.step_key, s.status])).toEqual([
      ['broken', 'FAILED'],
      ['finish', 'CANCELLED'],
      ['optional_broken', 'FAILED'],
      ['slow', 'CANCELLED'],
      ['start', 'COMPLETED'],
    ]);
    // The slow agent was told: its handler of this very sub-task saw the cancel.
    await cancelSeen('e2e_slow', await subtaskOf('broken-1', 'slow'));
  });

  it('goes on past a failed optional step', async () => {
    const response = await stack.submit({ task_id: 'optional-1', task_type: 'e2e_optional' });
    expect(response).toMatchObject({ status: 'COMPLETED', result: { output: { got: 'nothing' } } });
    expect((await stepsOf('optional-1')).map((s) => [s.step_key, s.status])).toEqual([
      ['after', 'COMPLETED'],
      ['maybe', 'FAILED'],
    ]);
  });

  it('cancels a running workflow over HTTP, telling the agent and the requester', async () => {
    const answers = stack.nats.collect('e2e.cancel.answers');
    await stack.nats.flush();
    stack.nats.nc.publish(ORCHESTRATOR_TASK_SUBJECT, JSON.stringify({ task_id: 'cancel-http', task_type: 'e2e_slow_one' }), { reply: 'e2e.cancel.answers' });
    await waitFor('the step to run', async () => ((await stepsOf('cancel-http'))[0]?.status === 'RUNNING' ? true : undefined));
    const res = await fetch(`${stack.orchestrator.baseUrl}/tasks/cancel-http/cancel`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ task_id: 'cancel-http', status: 'CANCELLED' });
    const [answer] = await answers.waitForCount(1);
    expect(answer).toMatchObject({ task_id: 'cancel-http', status: 'CANCELLED', success: false, error: 'cancelled by request' });
    await cancelSeen('e2e_slow', await subtaskOf('cancel-http', 'wait'));
    expect((await stepsOf('cancel-http'))[0]).toMatchObject({ status: 'CANCELLED' });
    expect((await fetch(`${stack.orchestrator.baseUrl}/tasks/cancel-http/cancel`, { method: 'POST' })).status).toBe(409);
    expect((await fetch(`${stack.orchestrator.baseUrl}/tasks/no-such/cancel`, { method: 'POST' })).status).toBe(404);
    answers.stop();
  });

  it('cancels a running workflow over NATS', async () => {
    const final = stack.submit({ task_id: 'cancel-nats', task_type: 'e2e_slow_one' });
    await waitFor('the step to run', async () => ((await stepsOf('cancel-nats'))[0]?.status === 'RUNNING' ? true : undefined));
    const answer = await stack.nats.request(ORCHESTRATOR_CANCEL_SUBJECT, { task_id: 'cancel-nats' });
    expect(answer).toMatchObject({ task_id: 'cancel-nats', status: 'CANCELLED' });
    expect(await final).toMatchObject({ task_id: 'cancel-nats', status: 'CANCELLED' });
    expect(await stack.nats.request(ORCHESTRATOR_CANCEL_SUBJECT, { task_id: 'no-such' })).toMatchObject({ status: 'FAILED', error: 'task_id: no task "no-such"' });
    expect(await stack.nats.request(ORCHESTRATOR_CANCEL_SUBJECT, { id: 1 })).toMatchObject({ status: 'FAILED' });
  });

  it('fails a workflow that overruns the timeout_ms of its request', async () => {
    const response = await stack.submit({ task_id: 'deadline-1', task_type: 'e2e_slow_one', timeout_ms: 500 });
    expect(response).toMatchObject({ status: 'FAILED', error: 'workflow timed out after 500 ms' });
    expect((await stepsOf('deadline-1'))[0]).toMatchObject({ status: 'CANCELLED' });
  });
});
