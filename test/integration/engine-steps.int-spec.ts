import { TaskPriority } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { useEngineHarness } from './support/engine-harness.js';

/**
 * Conditions, lists, retries of a whole workflow and agents at capacity, through the engine's
 * entry points on a real PostgreSQL and Redis.
 */
describe('the engine moving steps on', () => {
  const harness = useEngineHarness({
    env: { STATIC_AGENTS: JSON.stringify([{ name: 'single', capabilities: ['one_at_a_time'], max_concurrency: 1 }]) },
    workflows: {
      each: {
        defaults: { max_attempts: 2, backoff: { initial_ms: 100, max_ms: 100 } },
        steps: [
          { id: 'list', agent: 'alpha', task_type: 'w' },
          { id: 'each', agent: 'alpha', task_type: 'w', depends_on: ['list'], for_each: 'steps.list.result.items', concurrency: 2, input: { item: { $ref: 'item' }, index: { $ref: 'index' } } },
          { id: 'after', agent: 'alpha', task_type: 'w', depends_on: ['each'], input: { all: { $ref: 'steps.each.result.items' } } },
        ],
      },
      branch: {
        steps: [
          { id: 'check', agent: 'alpha', task_type: 'w' },
          { id: 'big', agent: 'alpha', task_type: 'w', depends_on: ['check'], when: 'steps.check.result.n > 10.0' },
          { id: 'small', agent: 'alpha', task_type: 'w', depends_on: ['check'], when: 'steps.check.result.n <= 10.0' },
          { id: 'bad', agent: 'alpha', task_type: 'w', depends_on: ['check'], when: 'steps.check.result.flag', optional: true },
        ],
      },
      resume: {
        defaults: { max_attempts: 2, backoff: { initial_ms: 100, max_ms: 100 } },
        steps: [
          { id: 'a', agent: 'alpha', task_type: 'w' },
          { id: 'b', agent: 'alpha', task_type: 'w', depends_on: ['a'] },
          { id: 'c', agent: 'alpha', task_type: 'w', depends_on: ['b'] },
        ],
      },
      busy: { steps: [{ id: 'x', agent: 'single', task_type: 'one_at_a_time', input: { label: { $ref: 'request.payload.label' } } }] },
    },
  });

  async function runList(taskId: string, items: unknown[]): Promise<void> {
    const h = harness();
    await h.submit({ task_id: taskId, task_type: 'each' });
    await h.answer(h.last('list'), { items });
  }

  it('sends the items of a for_each step in list order, concurrency at a time, and completes it with their results in list order', async () => {
    const h = harness();
    await runList('each-1', ['a', 'b', 'c', 'd', 'e']);
    const items = (): string[] => h.sent().filter((s) => s.stepKey.startsWith('each[')).map((s) => s.stepKey);
    expect(items()).toEqual(['each[0]', 'each[1]']);
    expect(h.last('each[0]').payload).toEqual({ item: 'a', index: 0 });
    const step = (await h.rows('each-1')).get('each');
    expect(step).toMatchObject({ status: 'RUNNING', item_count: 5, items_started: 2, items_done: 0 });
    // Answers out of order: the second frees a place for the third.
    await h.answer(h.last('each[1]'), { r: 'B' });
    expect(items()).toEqual(['each[0]', 'each[1]', 'each[2]']);
    await h.answer(h.last('each[2]'), { r: 'C' });
    await h.answer(h.last('each[0]'), { r: 'A' });
    expect(items()).toEqual(['each[0]', 'each[1]', 'each[2]', 'each[3]', 'each[4]']);
    expect(h.sentFor('after')).toEqual([]);
    await h.answer(h.last('each[4]'), { r: 'E' });
    await h.answer(h.last('each[3]'), { r: 'D' });
    expect(h.last('after').payload).toEqual({ all: [{ r: 'A' }, { r: 'B' }, { r: 'C' }, { r: 'D' }, { r: 'E' }] });
    expect((await h.rows('each-1')).get('each')).toMatchObject({ status: 'COMPLETED', items_done: 5, result: { items: [{ r: 'A' }, { r: 'B' }, { r: 'C' }, { r: 'D' }, { r: 'E' }] } });
    const kinds = (await h.history('each-1')).filter((e) => e.step_id === 'each').map((e) => [e.kind, e.data]);
    expect(kinds).toEqual([
      ['expanded', { items: 5 }],
      ['step_completed', { items: 5 }],
    ]);
  });

  it('completes a for_each over an empty list at once, sending nothing for it', async () => {
    const h = harness();
    await runList('each-0', []);
    expect(h.last('after').payload).toEqual({ all: [] });
    expect(h.sent().filter((s) => s.stepKey.startsWith('each['))).toEqual([]);
  });

  it('fails a for_each step when an item fails for good, cancelling the items that run and never sending the rest', async () => {
    const h = harness();
    h.advance(0);
    await runList('each-bad', ['a', 'b', 'c', 'd']);
    await h.fail(h.last('each[0]'), 'bad item');
    h.advance(100);
    await h.sweep();
    expect(h.last('each[0]').attempt).toBe(2);
    const running = h.last('each[1]');
    await h.fail(h.last('each[0]'), 'bad item');
    const root = await h.root('each-bad');
    expect(root).toMatchObject({ status: 'FAILED', error: 'step "each" (agent alpha) failed: item 0 of 4 failed after 2 attempts: bad item' });
    const rows = await h.rows('each-bad');
    expect(['each[0]', 'each[1]', 'each[2]', 'each[3]'].map((key) => [rows.get(key)?.status, rows.get(key)?.attempts])).toEqual([
      ['FAILED', 2],
      ['CANCELLED', 1],
      ['CANCELLED', 0],
      ['CANCELLED', 0],
    ]);
    expect(h.published.on('agent.alpha.cancel').map((m) => m.body['task_id'])).toEqual([running.taskId]);
    expect(h.sent().filter((s) => s.stepKey === 'each[2]' || s.stepKey === 'each[3]')).toEqual([]);
    expect([...rows.values()].filter((r) => r.next_attempt_at !== null || r.deadline_at !== null)).toEqual([]);
  });

  it('skips a step whose when is false, runs the one whose when is true, and fails one whose when is not a boolean', async () => {
    const h = harness();
    await h.submit({ task_id: 'when-1', task_type: 'branch' });
    await h.answer(h.last('check'), { n: 3, flag: 'yes' });
    expect(h.sent().map((s) => s.stepKey)).toEqual(['check', 'small']);
    const rows = await h.rows('when-1');
    expect(rows.get('big')).toMatchObject({ status: 'COMPLETED', attempts: 0, result: { skipped: true, reason: 'when is false: steps.check.result.n > 10.0' } });
    expect(rows.get('bad')).toMatchObject({ status: 'FAILED', error: 'when: gave "yes", not true or false' });
    expect((await h.history('when-1')).find((e) => e.kind === 'skipped')).toMatchObject({ step_id: 'big', data: { when: 'steps.check.result.n > 10.0' } });
    expect(await h.metrics.registry.getSingleMetricAsString('orchestrator_steps_skipped_total')).toMatch(/ 1$/m);
  });

  it('retries a failed workflow from its failed step: completed steps stay, attempts count on, a new final response', async () => {
    const h = harness();
    h.advance(0);
    await h.submit({ task_id: 'resume-1', task_type: 'resume' }, { replyTo: 'reply.resume-1' });
    const a = h.last('a');
    await h.answer(a, { a: 1 });
    await h.fail(h.last('b'), 'b is down');
    h.advance(100);
    await h.sweep();
    await h.fail(h.last('b'), 'b is down');
    expect((await h.root('resume-1')).status).toBe('FAILED');

    // Refused while its final response is not marked sent yet (as if its sender had died before marking it), then taken.
    await h.eventually('the failure to be marked sent', async () => ((await h.root('resume-1')).response_sent_at ? true : undefined));
    await h.query(`UPDATE tasks SET response_sent_at = NULL WHERE task_id = 'resume-1'`);
    expect((await h.engine.retry('resume-1'))?.outcome).toEqual({ kind: 'refused', reason: 'the final response of task resume-1 is still being sent: retry in a moment' });
    await h.query(`UPDATE tasks SET response_sent_at = now() WHERE task_id = 'resume-1'`);
    const retried = await h.engine.retry('resume-1');
    expect(retried?.outcome).toEqual({ kind: 'resumed', steps: ['b', 'c'] });
    expect(retried?.root).toMatchObject({ status: 'RUNNING', error: null, result: null, response_sent_at: null });
    expect(h.sentFor('a')).toEqual([a]);
    const third = h.last('b');
    expect(third.attempt).toBe(3);
    expect((await h.rows('resume-1')).get('b')).toMatchObject({ status: 'RUNNING', attempts: 3, max_attempts: 4 });
    await h.answer(third, { b: 3 });
    await h.answer(h.last('c'), { c: 1 });
    expect(await h.root('resume-1')).toMatchObject({ status: 'COMPLETED', result: { steps: { a: { a: 1 }, b: { b: 3 }, c: { c: 1 } } } });
    expect(h.published.on('reply.resume-1').map((m) => m.body['status'])).toEqual(['FAILED', 'COMPLETED']);
    expect((await h.history('resume-1')).find((e) => e.kind === 'resumed')?.data).toEqual({ was: 'FAILED', steps: ['b', 'c'] });

    expect((await h.engine.retry('resume-1'))?.outcome).toEqual({ kind: 'refused', reason: 'task resume-1 is COMPLETED: only a FAILED or CANCELLED task can be retried' });
    expect(await h.engine.retry('no-such-task')).toBeNull();
  });

  it('retries a failed for_each step keeping its completed items: only the others are sent again', async () => {
    const h = harness();
    h.advance(0);
    await runList('resume-each', ['a', 'b', 'c']);
    await h.answer(h.last('each[1]'), { r: 'B' });
    await h.fail(h.last('each[0]'), 'no');
    h.advance(100);
    await h.sweep();
    await h.fail(h.last('each[0]'), 'no');
    expect((await h.root('resume-each')).status).toBe('FAILED');
    await h.eventually('the failure to be marked sent', async () => ((await h.root('resume-each')).response_sent_at ? true : undefined));
    const before = h.sent().length;

    expect((await h.engine.retry('resume-each'))?.outcome).toEqual({ kind: 'resumed', steps: ['each', 'after'] });
    expect((await h.rows('resume-each')).get('each')).toMatchObject({ status: 'RUNNING', items_started: 3, items_done: 1 });
    // The unfinished items are due at once: the sweeper sends them.
    await h.sweep();
    // each[2] was running when each[0] failed for good: cancelled, it goes again as its second attempt.
    const again = h.sent().slice(before).map((s) => [s.stepKey, s.attempt]);
    expect(again.sort()).toEqual([
      ['each[0]', 3],
      ['each[2]', 2],
    ]);
    await h.answer(h.last('each[0]'), { r: 'A' });
    await h.answer(h.last('each[2]'), { r: 'C' });
    expect(h.last('after').payload).toEqual({ all: [{ r: 'A' }, { r: 'B' }, { r: 'C' }] });
  });

  it('holds a step for an agent at capacity without sending it, in its line rather than due, and sends it when the slot comes free', async () => {
    const h = harness();
    h.advance(0);
    await h.submit({ task_id: 'busy-1', task_type: 'busy', payload: { label: 'first' } });
    await h.submit({ task_id: 'busy-2', task_type: 'busy', payload: { label: 'second' } });
    expect(h.sent().map((s) => s.payload['label'])).toEqual(['first']);
    const waiting = (await h.rows('busy-2')).get('x');
    expect(waiting).toMatchObject({ status: 'PENDING', attempts: 0, deadline_at: null, next_attempt_at: null });
    expect(waiting?.waiting_on).toContain('single');
    // Waiting in a line is not due: a sweep leaves it there.
    expect(await h.tasks.findDue(new Date(), 10)).toEqual([]);
    await h.sweep();
    expect(h.sent()).toHaveLength(1);

    await h.answer(h.last('x'), { done: 1 });
    await h.eventually('the waiting step to be sent', () => (h.sent().length === 2 ? true : undefined));
    expect(h.sent().map((s) => s.payload['label'])).toEqual(['first', 'second']);
    expect((await h.rows('busy-2')).get('x')).toMatchObject({ status: 'RUNNING', attempts: 1, waiting_on: null });
  });

  it('serves waiting steps by priority, then oldest first', async () => {
    const h = harness();
    h.advance(0);
    await h.submit({ task_id: 'prio-0', task_type: 'busy', payload: { label: 'running' } });
    await h.submit({ task_id: 'prio-low', task_type: 'busy', payload: { label: 'low' }, priority: TaskPriority.Low });
    await h.submit({ task_id: 'prio-normal-1', task_type: 'busy', payload: { label: 'normal-1' } });
    await h.submit({ task_id: 'prio-normal-2', task_type: 'busy', payload: { label: 'normal-2' } });
    await h.submit({ task_id: 'prio-critical', task_type: 'busy', payload: { label: 'critical' }, priority: TaskPriority.Critical });
    const order: unknown[] = [];
    for (let i = 1; i <= 4; i++) {
      await h.answer(h.sent().at(-1) ?? h.last('x'), { ok: true });
      await h.eventually('the next waiting step to be sent', () => (h.sent().length === i + 1 ? true : undefined));
      order.push(h.sent().at(-1)?.payload['label']);
    }
    expect(order).toEqual(['critical', 'normal-1', 'normal-2', 'low']);
  });
});
