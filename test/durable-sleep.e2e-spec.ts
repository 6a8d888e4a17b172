import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentResponseSubject, ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'waits');
const SLEEPERS = 100;
const REQUESTER = 'e2e_sleeper';

describe('durable sleep', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, replicas: 2, env: (replica) => ({ INSTANCE_ID: `sleep-${replica + 1}` }) });

  const sleeping = async (): Promise<number> => {
    const [{ n }] = await stack.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE r.task_type = 'e2e_nap' AND s.status = 'WAITING' AND s.next_attempt_at IS NOT NULL`,
    );
    return n;
  };

  it(`${SLEEPERS} workflows sleep through a restart of every replica (one killed), and each sleep ends once`, async () => {
    const finals = stack.nats.collect(agentResponseSubject(REQUESTER));
    // The second sleep lasts until a time the request gives: past the restart too.
    const wakeAt = new Date(Date.now() + 9_000).toISOString();
    const submitted = Date.now();
    for (let i = 0; i < SLEEPERS; i++) {
      stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id: `nap-${i}`, task_type: 'e2e_nap', payload: { wake_at: wakeAt }, requester_id: REQUESTER });
    }
    await stack.nats.flush();
    await waitFor('every workflow to sleep', async () => ((await sleeping()) === SLEEPERS ? true : undefined), 60_000, 100);
    const view = await stack.get<{ steps: { step: string; status: string; wait: { kind: string; until: string | null } | null }[] }>('/tasks/nap-0');
    expect(view.steps[0]).toMatchObject({ step: 'nap', status: 'WAITING', wait: { kind: 'sleep' } });
    expect(Date.parse(view.steps[0]?.wait?.until ?? '') - submitted).toBeGreaterThanOrEqual(3_000);

    // Every replica goes: one dies at once, the other shuts down; the sleeps end while none runs.
    await stack.orchestrators[0]?.kill();
    await stack.orchestrators[1]?.stop();
    await sleep(Math.max(0, submitted + 5_000 - Date.now()));
    expect(finals.messages).toHaveLength(0);
    await stack.restart({ replica: 0 });
    await stack.restart({ replica: 1 });

    const answers = await finals.waitForCount(SLEEPERS, 90_000);
    const done = Date.now();
    expect(new Set(answers.map((answer) => answer['task_id'])).size).toBe(SLEEPERS);
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 'COMPLETED', result: { output: { until: wakeAt } } });
    }
    expect(done).toBeGreaterThanOrEqual(Date.parse(wakeAt));
    // Each sleep ended once, and each workflow answered once.
    const woke = await stack.db.query<{ step_id: string; n: number }>(
      `SELECT e.step_id, count(*)::int AS n FROM task_events e WHERE e.task_type = 'e2e_nap' AND e.kind = 'woke' GROUP BY e.root_id, e.step_id HAVING count(*) <> 1`,
    );
    expect(woke).toEqual([]);
    const [{ total }] = await stack.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM task_events WHERE task_type = 'e2e_nap' AND kind = 'woke'`);
    expect(total).toBe(SLEEPERS * 2);
    await sleep(1_000);
    expect(finals.messages).toHaveLength(SLEEPERS);
    finals.stop();
  });

  it('a time already past ends the sleep at once; one that is not a time fails the step naming it', async () => {
    const past = await stack.submit({ task_id: 'nap-past', task_type: 'e2e_nap', payload: { wake_at: '2000-01-01T00:00:00Z' } }, 30_000);
    expect(past).toMatchObject({ status: 'COMPLETED', result: { output: { until: '2000-01-01T00:00:00.000Z' } } });
    const wrong = await stack.submit({ task_id: 'nap-wrong', task_type: 'e2e_nap', payload: { wake_at: 'tomorrow' } }, 30_000);
    expect(wrong).toMatchObject({ status: 'FAILED', error: 'step "until" (sleep) failed: sleep.until: gave "tomorrow", not an ISO 8601 time or milliseconds since the epoch' });
  });

  it('a sleeping workflow that is cancelled leaves no due time behind', async () => {
    stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id: 'nap-cancel', task_type: 'e2e_nap', payload: { wake_at: new Date().toISOString() } });
    await waitFor('nap-cancel to sleep', async () => {
      const [row] = await stack.db.query<{ status: string }>(`SELECT s.status FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE r.task_id = 'nap-cancel' AND s.step_key = 'nap'`);
      return row?.status === 'WAITING' ? true : undefined;
    });
    const res = await fetch(`${stack.orchestrator.baseUrl}/tasks/nap-cancel/cancel`, { method: 'POST' });
    expect(res.status).toBe(200);
    const rows = await stack.db.query<{ step_key: string; status: string; next_attempt_at: Date | null }>(
      `SELECT s.step_key, s.status, s.next_attempt_at FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE r.task_id = 'nap-cancel' AND s.parent_id IS NOT NULL ORDER BY s.step_key`,
    );
    expect(rows).toEqual([
      { step_key: 'nap', status: 'CANCELLED', next_attempt_at: null },
      { step_key: 'until', status: 'CANCELLED', next_attempt_at: null },
    ]);
  });
});
