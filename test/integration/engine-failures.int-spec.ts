import { TaskStatus } from '@orchestrator/contracts';
import { describe, expect, it, vi } from 'vitest';
import { useEngineHarness } from './support/engine-harness.js';

/**
 * Failed attempts, timeouts, deadlines and cancellation, through the engine's entry points and its
 * sweeper, on a real PostgreSQL and Redis, with the clock moved by the test.
 */
describe('the engine when things go wrong', () => {
  const harness = useEngineHarness({
    env: {
      STATIC_AGENTS: JSON.stringify([
        { name: 'cap_one', capabilities: ['shared'], max_concurrency: 4 },
        { name: 'cap_two', capabilities: ['shared'], max_concurrency: 4 },
      ]),
    },
    workflows: {
      flaky: { steps: [{ id: 'x', agent: 'alpha', task_type: 'w', max_attempts: 3, backoff: { initial_ms: 1000, max_ms: 5000 }, input: { n: { $ref: 'request.payload.n' } } }] },
      breaks: {
        defaults: { max_attempts: 2, backoff: { initial_ms: 100, max_ms: 100 } },
        steps: [
          { id: 'start', agent: 'alpha', task_type: 'w' },
          { id: 'broken', agent: 'alpha', task_type: 'w', depends_on: ['start'] },
          { id: 'slow', agent: 'beta', task_type: 'w', depends_on: ['start'] },
          { id: 'after', agent: 'alpha', task_type: 'w', depends_on: ['broken', 'slow'] },
        ],
      },
      maybe: {
        steps: [
          { id: 'maybe', agent: 'alpha', task_type: 'w', optional: true, max_attempts: 1 },
          { id: 'after', agent: 'beta', task_type: 'w', depends_on: ['maybe'], input: { got: { $ref: 'steps.maybe.result.value', default: 'nothing' } } },
        ],
      },
      fallback: { steps: [{ id: 'x', agent: 'alpha', task_type: 'w', timeout_ms: 1000, max_attempts: 2, fallbacks: ['beta'], backoff: { initial_ms: 100, max_ms: 100 } }] },
      shared: { steps: [{ id: 'x', capability: 'shared', task_type: 'shared', max_attempts: 2, backoff: { initial_ms: 100, max_ms: 100 } }] },
      hold: { steps: [{ id: 'x', agent: 'cap_two', task_type: 'shared' }] },
      limited: { timeout_ms: 2000, steps: [{ id: 'x', agent: 'alpha', task_type: 'w' }] },
      unlimited: { steps: [{ id: 'x', agent: 'alpha', task_type: 'w' }] },
      lonely: { steps: [{ id: 'x', capability: 'nobody_offers', task_type: 'nobody_offers', timeout_ms: 1000 }] },
    },
  });

  it('retries a failed attempt after its backoff, not before, with the same input, until one completes', async () => {
    const h = harness();
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    h.advance(0);
    await h.submit({ task_id: 'retry-1', task_type: 'flaky', payload: { n: 7 } });
    const first = h.last('x');
    await h.fail(first, 'boom 1');
    // Full jitter at one half: 1000 ms × 2^0 × 0.5.
    const row = (await h.rows('retry-1')).get('x');
    expect(row).toMatchObject({ status: 'PENDING', attempts: 1, error: 'boom 1', deadline_at: null });
    const due = row?.next_attempt_at?.getTime() ?? 0;
    expect(due - Date.now()).toBe(500);
    await h.sweep();
    h.advance(499);
    await h.sweep();
    expect(h.sentFor('x')).toHaveLength(1);
    h.advance(1);
    await h.sweep();
    const second = h.last('x');
    expect(second).toMatchObject({ attempt: 2, agent: 'alpha', rowId: first.rowId, payload: { n: 7 } });

    await h.fail(second, 'boom 2');
    // The second backoff doubles: 2000 × 0.5.
    expect(((await h.rows('retry-1')).get('x')?.next_attempt_at?.getTime() ?? 0) - Date.now()).toBe(1000);
    h.advance(999);
    await h.sweep();
    expect(h.sentFor('x')).toHaveLength(2);
    h.advance(1);
    await h.sweep();
    await h.answer(h.last('x'), { ok: true });
    expect(await h.root('retry-1')).toMatchObject({ status: 'COMPLETED' });
    expect((await h.history('retry-1')).filter((e) => e.kind === 'retried').map((e) => e.data)).toEqual([
      { attempt: 2, backoff_ms: 500, error: 'boom 1' },
      { attempt: 3, backoff_ms: 1000, error: 'boom 2' },
    ]);
    expect(await h.metrics.registry.getSingleMetricAsString('orchestrator_step_retries_total')).toMatch(/agent="alpha"} 2\b/);
  });

  it('fails the workflow when a step runs out of attempts: names it, cancels what runs, keeps what completed, emits task_failed', async () => {
    const h = harness();
    h.advance(0);
    await h.submit({ task_id: 'fail-1', task_type: 'breaks', requester_id: 'asker' });
    await h.answer(h.last('start'), { started: true });
    const slow = h.last('slow');
    await h.fail(h.last('broken'), 'broken on purpose');
    h.advance(100);
    await h.sweep();
    await h.fail(h.last('broken'), 'broken on purpose');

    const root = await h.root('fail-1');
    expect(root).toMatchObject({ status: 'FAILED', error: 'step "broken" (agent alpha) failed after 2 attempts: broken on purpose', deadline_at: null });
    expect(root.result).toEqual({ steps: { start: { started: true } }, failed_step: 'broken', failed_agent: 'alpha' });
    const rows = await h.rows('fail-1');
    expect([...rows.values()].map((r) => [r.step_key, r.status]).sort()).toEqual([
      ['after', 'CANCELLED'],
      ['broken', 'FAILED'],
      ['slow', 'CANCELLED'],
      ['start', 'COMPLETED'],
    ]);
    expect(rows.get('slow')?.error).toBe('workflow failed: step "broken" (agent alpha) failed after 2 attempts: broken on purpose');
    expect([...rows.values()].filter((r) => r.next_attempt_at !== null || r.deadline_at !== null)).toEqual([]);
    expect(h.published.on('agent.beta.cancel').map((m) => m.body)).toEqual([{ task_id: slow.taskId }]);
    expect(h.published.on('platform.events.task_failed').map((m) => m.body)).toEqual([
      expect.objectContaining({ task_id: 'fail-1', task_type: 'breaks', status: 'FAILED', success: false, error: root.error, result: root.result }),
    ]);
    expect(h.published.on('agent.asker.response').map((m) => m.body['status'])).toEqual(['FAILED']);
    expect(h.published.on('platform.events.task_completed')).toEqual([]);
    // The answer of the cancelled sibling counts for nothing.
    expect(await h.answer(slow, { late: true })).toBeNull();
    expect((await h.history('fail-1')).map((e) => e.kind).filter((k) => ['step_failed', 'failed'].includes(k))).toEqual(['step_failed', 'failed']);
  });

  it('goes on past an optional step that fails, its dependents reading the default', async () => {
    const h = harness();
    await h.submit({ task_id: 'opt-1', task_type: 'maybe' });
    await h.fail(h.last('maybe'), 'not today');
    expect(h.last('after').payload).toEqual({ got: 'nothing' });
    await h.answer(h.last('after'), { done: true });
    expect(await h.root('opt-1')).toMatchObject({ status: 'COMPLETED' });
  });

  it('times out an attempt at its deadline: the agent is told to stop before the retry goes to the fallback', async () => {
    const h = harness();
    // Held ahead of the database's clock, so that a step started as it is made keeps the start (and deadline) this clock gave it.
    h.advance(60_000);
    await h.submit({ task_id: 'timeout-1', task_type: 'fallback' });
    const first = h.last('x');
    expect(first.agent).toBe('alpha');
    expect(((await h.rows('timeout-1')).get('x')?.deadline_at?.getTime() ?? 0) - Date.now()).toBe(1000);
    h.advance(999);
    await h.sweep();
    expect((await h.rows('timeout-1')).get('x')).toMatchObject({ status: 'RUNNING', attempts: 1 });
    h.advance(1);
    await h.sweep();
    expect((await h.rows('timeout-1')).get('x')).toMatchObject({ status: 'PENDING', attempts: 1, error: 'agent alpha did not answer within 1000 ms' });
    h.advance(100);
    await h.sweep();
    const second = h.last('x');
    expect(second).toMatchObject({ agent: 'beta', attempt: 2 });
    const cancelAt = h.published.messages.findIndex((m) => m.subject === 'agent.alpha.cancel');
    expect(h.published.messages[cancelAt]?.body).toEqual({ task_id: first.taskId });
    expect(cancelAt).toBeLessThan(h.published.messages.indexOf(second.message));
    expect((await h.history('timeout-1')).find((e) => e.kind === 'timed_out')?.data).toEqual({ agent: 'alpha', attempt: 1, timeout_ms: 1000 });
    // The late answer of the timed-out attempt is dropped; the fallback's counts.
    expect(await h.answer(first, { late: true })).toBeNull();
    expect(await h.answer(second, { by: 'beta' })).toBe('beta');
    expect(await h.root('timeout-1')).toMatchObject({ status: 'COMPLETED', result: { steps: { x: { by: 'beta' } } } });
    expect(await h.metrics.registry.getSingleMetricAsString('orchestrator_step_timeouts_total')).toMatch(/agent="alpha"} 1\b/);
  });

  it('sends a retry to another live candidate than the one that failed it, even one more loaded', async () => {
    const h = harness();
    // cap_two holds a sub-task: the least loaded is cap_one.
    await h.submit({ task_id: 'hold-1', task_type: 'hold' });
    expect(h.last('x').agent).toBe('cap_two');
    h.advance(0);
    await h.submit({ task_id: 'other-1', task_type: 'shared' });
    const first = h.sent().at(-1);
    expect(first?.agent).toBe('cap_one');
    if (!first) return;
    await h.fail(first, 'cap_one is unwell');
    h.advance(100);
    await h.sweep();
    const second = h.sent().at(-1);
    expect(second).toMatchObject({ agent: 'cap_two', attempt: 2, rowId: first.rowId });
  });

  it("ends a workflow at its deadline: the file's timeout_ms and the request's, the smaller wins", async () => {
    const h = harness();
    // Held ahead of the database's clock: a root's started_at is never earlier than its row's created_at (the database's
    // time), so a held clock the database overtook while the test ran would shorten the time the error names.
    h.advance(60_000);
    const start = Date.now();
    await h.submit({ task_id: 'deadline-file', task_type: 'limited', timeout_ms: 5000 });
    await h.submit({ task_id: 'deadline-request', task_type: 'limited', timeout_ms: 1000 });
    await h.submit({ task_id: 'deadline-only-request', task_type: 'unlimited', timeout_ms: 3000 });
    await h.submit({ task_id: 'deadline-none', task_type: 'unlimited' });
    expect((await h.root('deadline-file')).deadline_at?.getTime()).toBe(start + 2000);
    expect((await h.root('deadline-request')).deadline_at?.getTime()).toBe(start + 1000);
    expect((await h.root('deadline-only-request')).deadline_at?.getTime()).toBe(start + 3000);
    expect((await h.root('deadline-none')).deadline_at).toBeNull();

    h.advance(999);
    await h.sweep();
    expect((await h.root('deadline-request')).status).toBe('RUNNING');
    h.advance(1);
    await h.sweep();
    expect(await h.root('deadline-request')).toMatchObject({ status: 'FAILED', error: 'workflow timed out after 1000 ms' });
    expect((await h.rows('deadline-request')).get('x')).toMatchObject({ status: 'CANCELLED', deadline_at: null });
    const cancelled = h.published.on('agent.alpha.cancel').map((m) => m.body['task_id']);
    expect(cancelled).toEqual([h.sent().find((s) => s.message.options.headers?.['Orchestrator-Root-Task-Id'] === 'deadline-request')?.taskId]);
    expect((await h.root('deadline-file')).status).toBe('RUNNING');
    h.advance(1000);
    await h.sweep();
    expect(await h.root('deadline-file')).toMatchObject({ status: 'FAILED', error: 'workflow timed out after 2000 ms' });
    h.advance(1000);
    await h.sweep();
    expect(await h.root('deadline-only-request')).toMatchObject({ status: 'FAILED', error: 'workflow timed out after 3000 ms' });
    expect((await h.root('deadline-none')).status).toBe('RUNNING');
  });

  it('cancels a running workflow: the agents are told, the requester gets CANCELLED and task_cancelled is emitted; a finished one is left alone', async () => {
    const h = harness();
    await h.submit({ task_id: 'cancel-1', task_type: 'breaks', requester_id: 'asker' }, { replyTo: 'reply.cancel-1' });
    const start = h.last('start');
    const cancelled = await h.engine.cancel('cancel-1');
    expect(cancelled?.cancelled).toBe(true);
    expect(cancelled?.root).toMatchObject({ status: 'CANCELLED', error: 'cancelled by request' });
    expect(h.published.on('agent.alpha.cancel').map((m) => m.body)).toEqual([{ task_id: start.taskId }]);
    const rows = await h.rows('cancel-1');
    expect([...rows.values()].every((r) => r.status === 'CANCELLED')).toBe(true);
    expect(rows.get('start')?.error).toBe('workflow cancelled');
    for (const subject of ['reply.cancel-1', 'agent.asker.response']) {
      expect(h.published.on(subject).map((m) => m.body)).toEqual([expect.objectContaining({ task_id: 'cancel-1', status: 'CANCELLED', success: false, error: 'cancelled by request' })]);
    }
    expect(h.published.on('platform.events.task_cancelled').map((m) => m.body)).toEqual([
      expect.objectContaining({ task_id: 'cancel-1', task_type: 'breaks', status: 'CANCELLED', error: 'cancelled by request' }),
    ]);
    expect(await h.answer(start, { late: true })).toBeNull();
    expect((await h.engine.cancel('cancel-1'))?.cancelled).toBe(false);
    expect(h.published.on('platform.events.task_cancelled')).toHaveLength(1);
    expect(await h.engine.cancel('no-such-task')).toBeNull();
  });

  it('lets a step no live agent offers wait up to its timeout, sending nothing, then fails it', async () => {
    const h = harness();
    h.advance(0);
    await h.submit({ task_id: 'lonely-1', task_type: 'lonely' });
    expect(h.sent()).toEqual([]);
    const waiting = (await h.rows('lonely-1')).get('x');
    expect(waiting).toMatchObject({ status: 'PENDING', attempts: 0, waiting_on: 'c:nobody_offers' });
    expect((waiting?.deadline_at?.getTime() ?? 0) - Date.now()).toBe(1000);
    h.advance(500);
    await h.sweep();
    expect((await h.root('lonely-1')).status).toBe('RUNNING');
    h.advance(500);
    await h.sweep();
    expect(await h.root('lonely-1')).toMatchObject({ status: 'FAILED', error: 'step "x" (agent ?) failed: no live agent offers "nobody_offers"' });
    expect(h.sent()).toEqual([]);
  });

  it('counts a sub-task nobody is subscribed to as a failed attempt at once', async () => {
    const h = harness();
    await h.submit({ task_id: 'absent-1', task_type: 'fallback' });
    await h.engine.applyNoResponders(h.last('x').taskId);
    expect((await h.rows('absent-1')).get('x')).toMatchObject({ status: 'PENDING', attempts: 1, error: 'no agent is subscribed to its task subject (no responders)' });
  });

  it('records an answer the database cannot store as a failed attempt of its own workflow; one beside it in the batch commits', async () => {
    const h = harness();
    await h.submit({ task_id: 'poison-1', task_type: 'flaky', payload: { n: 1 } });
    await h.submit({ task_id: 'poison-2', task_type: 'flaky', payload: { n: 2 } });
    const [bad, good] = h.sentFor('x');
    if (!bad || !good) throw new Error('both were sent');
    const outcomes = await Promise.all([h.answer(bad, { text: 'a\u0000b' }), h.answer(good, { text: 'fine' })]);
    expect(outcomes).toEqual(['alpha', 'alpha']);
    expect(await h.root('poison-2')).toMatchObject({ status: 'COMPLETED', result: { steps: { x: { text: 'fine' } } } });
    const row = (await h.rows('poison-1')).get('x');
    expect(row).toMatchObject({ status: TaskStatus.Pending, attempts: 1, result: null });
    expect(row?.error).toMatch(/^answer rejected: /);
  });

  it('keeps the latest progress of the attempt that runs, from its own agent only', async () => {
    const h = harness();
    await h.submit({ task_id: 'progress-1', task_type: 'flaky', payload: { n: 1 } });
    const x = h.last('x');
    const report = { rowId: x.rowId, attempt: 1, sender: 'alpha', subtaskId: x.taskId, fraction: 0.4, message: 'working' };
    expect(await h.engine.applyProgress(report)).toBe('applied');
    expect(await h.engine.applyProgress({ ...report, sender: 'beta' })).toBe('refused');
    expect(await h.engine.applyProgress({ ...report, attempt: 2 })).toBe('dropped');
    const [row] = await h.query<{ progress: Record<string, unknown> }>(`SELECT progress FROM tasks WHERE id = $1`, [x.rowId]);
    expect(row?.progress).toMatchObject({ fraction: 0.4, message: 'working', attempt: 1 });
    expect((await h.history('progress-1')).filter((e) => e.kind === 'progress').map((e) => e.data)).toEqual([{ fraction: 0.4, message: 'working', attempt: 1 }]);
    await h.answer(x, { ok: true });
    expect(await h.engine.applyProgress({ ...report, fraction: 0.9 })).toBe('dropped');
  });
});
