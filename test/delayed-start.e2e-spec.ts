import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { useEchoAgent } from './support/echo-agent.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'schedules');

interface Detail {
  task_id: string;
  status: string;
  started_at: string | null;
  completed_at: string | null;
  not_before: string | null;
  steps: { step: string; status: string }[];
}

/** Seconds since the epoch, `ms` from now. */
const secondsFromNow = (ms: number): number => (Date.now() + ms) / 1000;

describe('delayed start: not_before', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, replicas: 2, oneByOne: true });
  const agent = useEchoAgent('e2e_ticker');

  async function post(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${stack.orchestrator.baseUrl}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  function finished(taskId: string, timeoutMs = 30_000): Promise<Detail> {
    return waitFor(`${taskId} to finish`, async () => {
      const detail = await stack.get<Detail>(`/tasks/${taskId}`);
      return detail.completed_at === null ? undefined : detail;
    }, timeoutMs);
  }

  it('stores the workflow at once, PENDING and planned, and starts it at not_before, its deadline counted from then', async () => {
    const notBefore = secondsFromNow(3_000);
    const submitted = await post({ task_id: 'later-1', task_type: 'e2e_tick', payload: { label: 'later' }, not_before: notBefore, timeout_ms: 60_000 });
    expect(submitted).toMatchObject({ status: 202, body: { task_id: 'later-1', status: 'PENDING' } });

    const waiting = await stack.get<Detail>('/tasks/later-1');
    expect(waiting).toMatchObject({ status: 'PENDING', started_at: null, not_before: new Date(notBefore * 1000).toISOString() });
    expect(waiting.steps).toEqual([expect.objectContaining({ step: 'work', status: 'PENDING' })]);
    const listed = await stack.get<{ items: Detail[] }>('/tasks?status=PENDING');
    expect(listed.items.map((task) => [task.task_id, task.not_before])).toContainEqual(['later-1', waiting.not_before]);

    const done = await finished('later-1');
    expect(done.status).toBe('COMPLETED');
    const receipt = agent().of('later-1')[0];
    expect(receipt?.at).toBeGreaterThanOrEqual(notBefore * 1000);
    expect(Date.parse(done.started_at ?? '')).toBeGreaterThanOrEqual(notBefore * 1000);
    const [root] = await stack.db.query<{ started_at: Date; deadline_at: Date | null }>(
      `SELECT started_at, deadline_at FROM tasks WHERE task_id = 'later-1' AND parent_id IS NULL`,
    );
    // Finished clears the deadline; the history shows when it started.
    expect(root?.deadline_at).toBeNull();
    const history = await stack.get<{ items: { kind: string; data: Record<string, unknown> | null }[] }>('/tasks/later-1/events');
    expect(history.items.map((event) => event.kind).slice(0, 3)).toEqual(['submitted', 'planned', 'started']);
    expect(history.items[0]?.data).toMatchObject({ not_before: waiting.not_before });
  });

  it('gives a started workflow the time it allows from its start, not from its not_before', async () => {
    const notBefore = secondsFromNow(1_500);
    await post({ task_id: 'later-deadline', task_type: 'e2e_tick', payload: { delay_ms: 3_000 }, not_before: notBefore, timeout_ms: 50_000 });
    const [root] = await waitFor('later-deadline to start', async () => {
      const rows = await stack.db.query<{ started_at: Date; deadline_at: Date }>(
        `SELECT started_at, deadline_at FROM tasks WHERE task_id = 'later-deadline' AND parent_id IS NULL AND status = 'RUNNING'`,
      );
      return rows.length > 0 ? rows : undefined;
    });
    expect(root && root.deadline_at.getTime() - root.started_at.getTime()).toBe(50_000);
    expect((await finished('later-deadline')).status).toBe('COMPLETED');
  });

  it('over NATS: task_created says PENDING at once, and the final response comes on the reply subject once it ran', async () => {
    const created = stack.nats.collect('platform.events.task_created');
    const started = stack.nats.collect('platform.events.task_started');
    const notBefore = secondsFromNow(2_000);
    const response = await stack.submit({ task_id: 'later-nats', task_type: 'e2e_tick', payload: { label: 'nats' }, not_before: notBefore }, 30_000);
    expect(response).toMatchObject({ task_id: 'later-nats', status: 'COMPLETED', success: true });
    expect(Date.now()).toBeGreaterThanOrEqual(notBefore * 1000);
    const mine = (events: Record<string, unknown>[]) => events.filter((event) => event['task_id'] === 'later-nats');
    expect(mine(created.messages)).toEqual([expect.objectContaining({ status: 'PENDING' })]);
    expect(mine(started.messages)).toEqual([expect.objectContaining({ status: 'RUNNING' })]);
    expect(Number(mine(started.messages)[0]?.['ts'])).toBeGreaterThanOrEqual(notBefore - 0.001);
    created.stop();
    started.stop();
  });

  it('starts a delayed workflow whose time came while every replica was down', async () => {
    const notBefore = secondsFromNow(2_000);
    expect((await post({ task_id: 'later-restart', task_type: 'e2e_tick', not_before: notBefore })).status).toBe(202);
    await Promise.all(stack.orchestrators.map((replica) => replica.kill()));
    await sleep(Math.max(0, notBefore * 1000 - Date.now()) + 500);
    expect(agent().of('later-restart')).toEqual([]);
    await stack.restart({ replica: 0 });
    await stack.restart({ replica: 1 });
    const done = await finished('later-restart');
    expect(done.status).toBe('COMPLETED');
    expect(agent().of('later-restart')).toHaveLength(1);
  });

  it('cancels a workflow while it waits: nothing is ever sent, and the requester gets CANCELLED', async () => {
    const responses = stack.nats.collect('agent.e2e_requester.response');
    const notBefore = secondsFromNow(2_500);
    stack.nats.publish('agent.orchestrator_agent.task', { task_id: 'later-cancel', task_type: 'e2e_tick', requester_id: 'e2e_requester', not_before: notBefore });
    await waitFor('later-cancel to be stored', async () => (await fetch(`${stack.orchestrator.baseUrl}/tasks/later-cancel`)).status === 200 || undefined);
    const cancelled = await fetch(`${stack.orchestrators[1]?.baseUrl ?? ''}/tasks/later-cancel/cancel`, { method: 'POST' });
    expect(await cancelled.json()).toEqual({ task_id: 'later-cancel', status: 'CANCELLED' });
    const [response] = await responses.waitForCount(1);
    expect(response).toMatchObject({ task_id: 'later-cancel', status: 'CANCELLED', error: 'cancelled by request' });
    // Past its time, it stays cancelled and its step was never sent.
    await sleep(Math.max(0, notBefore * 1000 - Date.now()) + 1_000);
    const detail = await stack.get<Detail>('/tasks/later-cancel');
    expect(detail).toMatchObject({ status: 'CANCELLED', started_at: null, steps: [expect.objectContaining({ status: 'CANCELLED' })] });
    expect(agent().of('later-cancel')).toEqual([]);
    const [due] = await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE root_id = (SELECT id FROM tasks WHERE task_id = 'later-cancel') AND (next_attempt_at IS NOT NULL OR deadline_at IS NOT NULL)`);
    expect(due?.n).toBe(0);
    responses.stop();

    // Retried, it starts now.
    await waitFor('the retry to be taken', async () => (await fetch(`${stack.orchestrator.baseUrl}/tasks/later-cancel/retry`, { method: 'POST' })).status === 200 || undefined);
    const done = await finished('later-cancel');
    expect(done.status).toBe('COMPLETED');
    expect(done.started_at).not.toBeNull();
    expect(agent().of('later-cancel')).toHaveLength(1);
  });

  it('refuses a not_before that is not seconds since the epoch, naming it, over HTTP and NATS', async () => {
    const millis = await post({ task_id: 'later-bad', task_type: 'e2e_tick', not_before: Date.now() });
    expect(millis.status).toBe(400);
    expect(millis.body['message']).toBe('not_before: must be seconds since the epoch, not milliseconds');
    const text = await stack.submit({ task_id: 'later-bad', task_type: 'e2e_tick', not_before: 'tomorrow' });
    expect(text).toMatchObject({ status: 'FAILED', error: 'not_before: must be a number of seconds since the epoch' });
    expect(await fetch(`${stack.orchestrator.baseUrl}/tasks/later-bad`).then((res) => res.status)).toBe(404);
  });

  it('finds due delayed workflows on their index: 100,000 waiting cost a sweep a few index pages', async () => {
    await stack.db.query(
      `INSERT INTO tasks (id, task_id, root_id, task_type, status, not_before, plan)
       SELECT id, 'far-' || n, id, 'e2e_tick', 'PENDING', now() + interval '1 day' + n * interval '1 second', '{}'::jsonb
         FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, 100000) AS n) AS g`,
    );
    await stack.db.query('ANALYZE tasks');
    const plan = await stack.db.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT id FROM tasks
        WHERE parent_id IS NULL AND status = 'PENDING' AND not_before IS NOT NULL AND not_before <= now() ORDER BY not_before LIMIT 200`,
    );
    const text = plan.map((row) => row['QUERY PLAN']).join('\n');
    expect(text).toContain('Index Scan using tasks_delayed_due_idx');
    // The top node's buffers are the whole execution's (planning's are counted apart, after it).
    const top = /Buffers: ([^\n]*)/.exec(text)?.[1] ?? '';
    const buffers = [...top.matchAll(/(?:hit|read)=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
    expect(buffers).toBeGreaterThan(0);
    expect(buffers).toBeLessThan(10);
    // And none of them was started by the sweeps that ran meanwhile.
    const [started] = await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE task_id LIKE 'far-%' AND status <> 'PENDING'`);
    expect(started?.n).toBe(0);
    await stack.db.query(`DELETE FROM tasks WHERE task_id LIKE 'far-%'`);
  });
});
