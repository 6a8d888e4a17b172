import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { hold, PlainAgent } from './support/plain-agent.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'policies');

interface TaskView {
  task_id: string;
  status: string;
  error: string | null;
}

describe('concurrency keys, two replicas', () => {
  /** Sub-tasks in progress at the agent per customer, and the most seen at once. */
  const inProgress = new Map<string, number>();
  const mostAtOnce = new Map<string, number>();
  let agent: PlainAgent;

  const stack = useTestStack({
    workflowsDir: FIXTURES,
    replicas: 2,
    env: (replica) => ({ INSTANCE_ID: `conc-${replica + 1}` }),
    before: async () => {
      agent = await PlainAgent.start({
        name: 'e2e_conc',
        capabilities: ['e2e_hold'],
        handle: async (payload, _taskId, signal) => {
          const customer = String(payload['customer']);
          const now = (inProgress.get(customer) ?? 0) + 1;
          inProgress.set(customer, now);
          mostAtOnce.set(customer, Math.max(mostAtOnce.get(customer) ?? 0, now));
          try {
            await hold(Number(payload['hold_ms']), signal);
            return { result: { run: payload['run'] } };
          } finally {
            inProgress.set(customer, (inProgress.get(customer) ?? 1) - 1);
          }
        },
      });
    },
    waitForAgents: 1,
  });
  stack.onStop(() => agent.stop());

  async function post(replica: number, body: Record<string, unknown>): Promise<void> {
    const res = await fetch(`${stack.orchestrators[replica]?.baseUrl ?? ''}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(202);
  }

  const task = (taskId: string): Promise<TaskView> => stack.get<TaskView>(`/tasks/${encodeURIComponent(taskId)}`);

  async function finished(taskIds: readonly string[], timeoutMs = 90_000): Promise<TaskView[]> {
    return waitFor(
      `${taskIds.length} tasks to finish`,
      async () => {
        const views = await Promise.all(taskIds.map(task));
        return views.every((view) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(view.status)) ? views : undefined;
      },
      timeoutMs,
      200,
    );
  }

  it('queue: never more than max_runs of a key run at once across two replicas; the others wait QUEUED (GET /tasks shows them) and all complete', async () => {
    const customers = ['acme', 'globex', 'initech'];
    const ids = customers.flatMap((customer) => Array.from({ length: 8 }, (_, i) => `q-${customer}-${i}`));
    // What the database says is RUNNING per key, sampled while they run.
    let sampling = true;
    let mostRunning = 0;
    const sampler = (async () => {
      while (sampling) {
        const rows = await stack.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM tasks WHERE parent_id IS NULL AND task_type = 'e2e_conc_queue' AND status = 'RUNNING' GROUP BY concurrency_key`,
        );
        mostRunning = Math.max(mostRunning, ...rows.map((row) => row.n));
        await sleep(20);
      }
    })();
    // Submitted to both replicas in turn, all at once.
    await Promise.all(ids.map((taskId, i) => post(i % 2, { task_id: taskId, task_type: 'e2e_conc_queue', payload: { customer: customers[i % 3], hold_ms: 250 } })));
    const queued = await waitFor('QUEUED runs in GET /tasks', async () => {
      const page = await stack.get<{ items: TaskView[] }>('/tasks?status=QUEUED&task_type=e2e_conc_queue&limit=100');
      return page.items.length > 0 ? page.items : undefined;
    });
    expect(queued.every((view) => view.status === 'QUEUED')).toBe(true);
    const views = await finished(ids);
    sampling = false;
    await sampler;
    console.log(`queue: most RUNNING per key in the database ${mostRunning}, most at the agent per customer ${JSON.stringify(Object.fromEntries(mostAtOnce))}`);
    expect(views.filter((view) => view.status !== 'COMPLETED')).toEqual([]);
    expect(mostRunning).toBeLessThanOrEqual(2);
    for (const customer of customers) expect(mostAtOnce.get(customer) ?? 0).toBeLessThanOrEqual(2);
    // Each run was sent once; each that waited has its start in its history.
    expect(agent.receipts.filter((r) => String(r.payload['run']).startsWith('q-'))).toHaveLength(ids.length);
    const [{ queuedRuns, startedRuns }] = await stack.db.query<{ queuedRuns: number; startedRuns: number }>(
      `SELECT count(*) FILTER (WHERE kind = 'queued')::int AS "queuedRuns", count(*) FILTER (WHERE kind = 'started')::int AS "startedRuns"
         FROM task_events WHERE task_type = 'e2e_conc_queue'`,
    );
    expect(queuedRuns).toBeGreaterThan(0);
    expect(startedRuns).toBe(queuedRuns);
    // Both replicas applied answers.
    const perReplica = await Promise.all(stack.orchestrators.map(async (replica) => (await (await fetch(`${replica.baseUrl}/status`)).json()) as { responses_applied: number }));
    expect(perReplica.every((replica) => replica.responses_applied > 0)).toBe(true);
  });

  it('queue: a QUEUED run cancelled by request leaves its place to the next; one past its deadline fails naming why', async () => {
    await post(0, { task_id: 'edge-running', task_type: 'e2e_conc_queue', payload: { customer: 'edge', hold_ms: 1_500 } });
    await post(1, { task_id: 'edge-running-2', task_type: 'e2e_conc_queue', payload: { customer: 'edge', hold_ms: 1_500 } });
    await waitFor('both edge runs to reach the agent', () => (agent.receipts.filter((r) => r.payload['customer'] === 'edge').length === 2 ? true : undefined));
    await post(0, { task_id: 'edge-cancelled', task_type: 'e2e_conc_queue', payload: { customer: 'edge', hold_ms: 10 } });
    await post(1, { task_id: 'edge-late', task_type: 'e2e_conc_queue', payload: { customer: 'edge', hold_ms: 10 }, timeout_ms: 300 });
    await post(0, { task_id: 'edge-next', task_type: 'e2e_conc_queue', payload: { customer: 'edge', hold_ms: 10 } });
    expect((await task('edge-cancelled')).status).toBe('QUEUED');
    const cancel = await fetch(`${stack.orchestrators[1]?.baseUrl ?? ''}/tasks/edge-cancelled/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(200);
    const [cancelled, late, next] = await finished(['edge-cancelled', 'edge-late', 'edge-next']);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', error: 'cancelled by request' });
    expect(late?.status).toBe('FAILED');
    expect(late?.error).toMatch(/^workflow timed out after \d+ ms \(QUEUED for its concurrency key\)$/);
    expect(next?.status).toBe('COMPLETED');
    // Neither the cancelled nor the late run was ever sent.
    expect(agent.receipts.filter((r) => r.payload['run'] === 'edge-cancelled' || r.payload['run'] === 'edge-late')).toEqual([]);
  });

  it('queue: a delayed run of a full key waits PENDING for its time, then QUEUED for its turn, and runs when a run of its key ends', async () => {
    await post(0, { task_id: 'later-running-1', task_type: 'e2e_conc_queue', payload: { customer: 'later', hold_ms: 60_000 } });
    await post(1, { task_id: 'later-running-2', task_type: 'e2e_conc_queue', payload: { customer: 'later', hold_ms: 60_000 } });
    await waitFor('both runs of the key to reach the agent', () => (agent.receipts.filter((r) => r.payload['customer'] === 'later').length === 2 ? true : undefined));
    await post(0, { task_id: 'later-delayed', task_type: 'e2e_conc_queue', payload: { customer: 'later', hold_ms: 10 }, not_before: Date.now() / 1000 + 1 });
    expect((await task('later-delayed')).status).toBe('PENDING');
    await waitFor('the delayed run to take its turn behind the key', async () => ((await task('later-delayed')).status === 'QUEUED' ? true : undefined), 30_000, 100);
    expect(agent.receipts.filter((r) => r.payload['run'] === 'later-delayed')).toEqual([]);
    const cancel = await fetch(`${stack.orchestrators[1]?.baseUrl ?? ''}/tasks/later-running-1/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(200);
    const [delayed] = await finished(['later-delayed']);
    expect(delayed?.status).toBe('COMPLETED');
    expect(mostAtOnce.get('later')).toBeLessThanOrEqual(2);
    const kinds = await stack.db.query<{ kind: string }>(
      `SELECT kind FROM task_events WHERE task_id = 'later-delayed' AND kind IN ('queued', 'started') ORDER BY id`,
    );
    expect(kinds.map((row) => row.kind)).toEqual(['started', 'queued', 'started']);
    await fetch(`${stack.orchestrators[0]?.baseUrl ?? ''}/tasks/later-running-2/cancel`, { method: 'POST' });
  });

  it('queue: a QUEUED run marked by a replica that died after its commit is started by a sweeper', async () => {
    await post(0, { task_id: 'crash-first', task_type: 'e2e_conc_queue', payload: { customer: 'crash', hold_ms: 60_000 } });
    await post(0, { task_id: 'crash-second', task_type: 'e2e_conc_queue', payload: { customer: 'crash', hold_ms: 60_000 } });
    await post(1, { task_id: 'crash-waiting', task_type: 'e2e_conc_queue', payload: { customer: 'crash', hold_ms: 10 } });
    await waitFor('the two first runs to reach the agent', () => (agent.receipts.filter((r) => r.payload['customer'] === 'crash').length === 2 ? true : undefined));
    expect((await task('crash-waiting')).status).toBe('QUEUED');
    // What a replica leaves when it commits the end of a run (and the mark of the next) and dies
    // before its after-commit work: the run is over, the next is marked, nobody has started it.
    await stack.db.query(
      `WITH ended AS (UPDATE tasks SET status = 'COMPLETED', completed_at = now(), result = '{}' WHERE parent_id IS NULL AND task_id = 'crash-first' RETURNING id)
       UPDATE tasks SET status = 'CANCELLED', deadline_at = NULL, completed_at = now() WHERE root_id IN (SELECT id FROM ended) AND parent_id IS NOT NULL`,
    );
    await stack.db.query(`UPDATE tasks SET next_attempt_at = now() WHERE parent_id IS NULL AND task_id = 'crash-waiting'`);
    const [waiting] = await finished(['crash-waiting'], 30_000);
    expect(waiting?.status).toBe('COMPLETED');
    await fetch(`${stack.orchestrator.baseUrl}/tasks/crash-second/cancel`, { method: 'POST' });
  });

  it('cancel_in_progress: a new run cancels the one in progress with the reason, and runs alone once it has stopped', async () => {
    const first = stack.submit({ task_id: 'sup-first', task_type: 'e2e_conc_supersede', payload: { customer: 'c1', hold_ms: 60_000 } }, 90_000);
    const other = stack.submit({ task_id: 'sup-other', task_type: 'e2e_conc_supersede', payload: { customer: 'c2', hold_ms: 50 } }, 90_000);
    await waitFor('the first run to reach the agent', () => (agent.receipts.some((r) => r.payload['run'] === 'sup-first') ? true : undefined));
    const second = await stack.submit({ task_id: 'sup-second', task_type: 'e2e_conc_supersede', payload: { customer: 'c1', hold_ms: 50 } }, 90_000);
    expect(await first).toMatchObject({ status: 'CANCELLED', error: 'cancelled: concurrency key "c1" (max_runs 1): superseded by sup-second' });
    expect(second['status']).toBe('COMPLETED');
    expect((await other)['status']).toBe('COMPLETED');
    // The first run's agent was told to stop before the second was sent.
    const firstReceipt = agent.receipts.find((r) => r.payload['run'] === 'sup-first');
    const secondReceipt = agent.receipts.find((r) => r.payload['run'] === 'sup-second');
    expect(agent.cancels).toContain(firstReceipt?.taskId);
    expect(firstReceipt?.answeredAt).not.toBeNull();
    expect(secondReceipt?.at ?? 0).toBeGreaterThanOrEqual(firstReceipt?.answeredAt ?? Infinity);
    expect(mostAtOnce.get('c1')).toBe(1);
  });

  it('cancel_newest: a run over the limit is cancelled at once with the reason, and never sent', async () => {
    const first = stack.submit({ task_id: 'new-first', task_type: 'e2e_conc_newest', payload: { hold_ms: 1_500 } }, 90_000);
    await waitFor('the first run to reach the agent', () => (agent.receipts.some((r) => r.payload['run'] === 'new-first') ? true : undefined));
    const second = await stack.submit({ task_id: 'new-second', task_type: 'e2e_conc_newest', payload: { hold_ms: 10 } }, 90_000);
    expect(second).toMatchObject({
      status: 'CANCELLED',
      error: 'cancelled: concurrency key "e2e_conc_newest" (max_runs 1): 1 run is in progress, and the newest is cancelled (cancel_newest)',
    });
    expect((await first)['status']).toBe('COMPLETED');
    expect(agent.receipts.some((r) => r.payload['run'] === 'new-second')).toBe(false);
    // Once the first has ended there is room again.
    expect((await stack.submit({ task_id: 'new-third', task_type: 'e2e_conc_newest', payload: { hold_ms: 10 } }, 90_000))['status']).toBe('COMPLETED');
  });

  it('refuses a request whose concurrency key cannot be evaluated, naming the field, and stores nothing', async () => {
    const answer = await stack.submit({ task_id: 'no-customer', task_type: 'e2e_conc_supersede', payload: {} });
    expect(answer['status']).toBe('FAILED');
    expect(String(answer['error'])).toMatch(/^concurrency\.key: .*customer/);
    const res = await fetch(`${stack.orchestrator.baseUrl}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task_id: 'no-customer-http', task_type: 'e2e_conc_supersede', payload: { other: 1 } }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/^concurrency\.key: /);
    expect(await stack.db.query(`SELECT id FROM tasks WHERE task_id IN ('no-customer', 'no-customer-http')`)).toEqual([]);
  });
});
