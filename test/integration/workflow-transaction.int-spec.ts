import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskPriority, TaskStatus } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { newRootRow, type TaskRow } from '../../apps/orchestrator/src/persistence/task-rows.js';
import type { Changes, Opened, OpenSpec, WorkflowTransaction } from '../../apps/orchestrator/src/persistence/workflow-transaction.js';
import type { Plan } from '../../apps/orchestrator/src/planning/plan.js';
import { useEngineHarness } from './support/engine-harness.js';
import { insertRows, insertWorkflow, seconds } from './support/rows.js';

const PLAN = { task_type: 'int_type', version: 1, revision: 1, steps: [], output: null, timeout_ms: null } as unknown as Plan;

const openSpec = (spec: Partial<OpenSpec>): OpenSpec => ({ waitFor: [], skipIfHeld: [], rootsOfRows: [], rowIds: [], newTaskIds: [], newRootIds: [], ...spec });
const noChanges = (changes: Partial<Changes> = {}): Changes => ({ update: [], insert: [], revisions: [], stops: [], now: new Date(), ...changes });

/**
 * WorkflowTransaction against a real PostgreSQL: what `open` locks and reads, what `close` writes,
 * and how two transactions on one workflow wait for each other.
 */
describe('WorkflowTransaction', () => {
  const harness = useEngineHarness({ workflows: {} });

  /** Opens a transaction, hands it to `work`, and closes it with what `work` returns. */
  function transition<T>(spec: OpenSpec, work: (opened: Opened, tx: WorkflowTransaction) => Promise<{ changes?: Partial<Changes>; out: T }>): Promise<{ out: T; closed: Awaited<ReturnType<WorkflowTransaction['close']>> }> {
    return harness().tasks.transition(async (tx) => {
      const opened = await tx.open(spec);
      const { changes, out } = await work(opened, tx);
      return { out, closed: await tx.close(noChanges(changes)) };
    });
  }

  it('looks up the task_ids of new workflows under their lock: one already stored is taken, and is not inserted again', async () => {
    const h = harness();
    const request = (taskId: string) => ({ request: { task_id: taskId, task_type: 'int_type', payload: { p: 1 }, priority: TaskPriority.Normal }, plan: PLAN, replyTo: null, traceparent: null, depth: 1, fingerprint: null, concurrencyKey: null });
    const first = newRootRow(request('new-1'), new Date());
    const { out } = await transition(openSpec({ newTaskIds: ['new-1'], newRootIds: [first.id] }), (opened) => Promise.resolve({ out: opened, changes: { insert: [first] } }));
    expect([...out.taken]).toEqual([]);
    expect(out.roots).toEqual([]);
    const other = newRootRow(request('new-2'), new Date());
    // The transitions insert only the roots whose task_id is not taken.
    const { out: second } = await transition(openSpec({ newTaskIds: ['new-1', 'new-2'], newRootIds: [other.id] }), (opened) => Promise.resolve({ out: opened, changes: { insert: [other] } }));
    expect([...second.taken]).toEqual(['new-1']);
    expect((await h.query(`SELECT task_id, payload FROM tasks ORDER BY task_id`))).toEqual([
      { task_id: 'new-1', payload: { p: 1 } },
      { task_id: 'new-2', payload: { p: 1 } },
    ]);
  });

  it("reads a locked workflow's root and its current plan's steps, not retired rows nor items unless named", async () => {
    const h = harness();
    const [root, a, each, retired] = await insertWorkflow(h.db, {}, [{ step_key: 'a' }, { step_key: 'each', item_count: 1 }, { step_key: 'old@1' }]);
    const [item] = await insertRows(h.db, [{ parent_id: each, root_id: root, step_key: 'each[0]' }]);
    const [otherRoot, otherStep] = await insertWorkflow(h.db, {}, [{ step_key: 'a' }]);
    const { out } = await transition(openSpec({ waitFor: [root ?? ''] }), (opened) => Promise.resolve({ out: opened }));
    expect(out.roots.map((r) => r.id)).toEqual([root]);
    expect(out.rows.map((r) => r.id).sort()).toEqual([a, each].sort());
    const { out: named } = await transition(openSpec({ waitFor: [root ?? ''], rowIds: [item ?? '', otherStep ?? ''] }), (opened) => Promise.resolve({ out: opened }));
    // A row of a workflow that is not locked is not read, even when named.
    expect(named.rows.map((r) => r.id).sort()).toEqual([a, each, item].sort());
    const { out: byRow } = await transition(openSpec({ rootsOfRows: [otherStep ?? ''], rowIds: [otherStep ?? ''] }), (opened) => Promise.resolve({ out: opened }));
    expect(byRow.roots.map((r) => r.id)).toEqual([otherRoot]);
    expect(byRow.rows.map((r) => r.id)).toEqual([otherStep]);
    expect(retired).toBeDefined();
  });

  it('makes a second transaction on the same workflow wait for the first, and lets one that skips held workflows go without it', async () => {
    const h = harness();
    const [root] = await insertWorkflow(h.db, {}, [{ step_key: 'a' }]);
    const order: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = transition(openSpec({ waitFor: [root ?? ''] }), async () => {
      order.push('first locked');
      await held;
      order.push('first commits');
      return { out: null };
    });
    await h.eventually('the first to hold the lock', () => (order.length > 0 ? true : undefined));
    const skipping = await transition(openSpec({ skipIfHeld: [root ?? ''] }), (opened) => Promise.resolve({ out: opened.roots.length }));
    expect(skipping.out).toBe(0);
    const second = transition(openSpec({ waitFor: [root ?? ''] }), (opened) => {
      order.push(`second locked ${opened.roots.length}`);
      return Promise.resolve({ out: null });
    });
    await sleep(200);
    expect(order).toEqual(['first locked']);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first locked', 'first commits', 'second locked 1']);
    const free = await transition(openSpec({ skipIfHeld: [root ?? ''] }), (opened) => Promise.resolve({ out: opened.roots.length }));
    expect(free.out).toBe(1);
  });

  it('rolls back what a transition wrote when it fails before closing, and frees the workflow', async () => {
    const h = harness();
    const [root] = await insertWorkflow(h.db, {}, []);
    const failing = h.tasks.transition(async (tx) => {
      await tx.open(openSpec({ waitFor: [root ?? ''] }));
      throw new Error('the transition cannot go on');
    });
    await expect(failing).rejects.toThrow('the transition cannot go on');
    const { out } = await transition(openSpec({ skipIfHeld: [root ?? ''] }), (opened) => Promise.resolve({ out: opened.roots.length }));
    expect(out).toBe(1);
  });

  it('writes changed rows, keeping the stored input and result where the change does not set them', async () => {
    const h = harness();
    const [root, a, b] = await insertWorkflow(h.db, {}, [
      { step_key: 'a', payload: { in: 'a' }, result: { out: 'kept' } },
      { step_key: 'b', payload: { in: 'b' } },
    ]);
    await transition(openSpec({ waitFor: [root ?? ''] }), (opened) => {
      const rows = new Map(opened.rows.map((r) => [r.id, r]));
      const rowA = { ...(rows.get(a ?? '') as TaskRow), status: TaskStatus.Running, attempts: 1, agent_name: 'alpha', deadline_at: seconds(30) };
      const rowB = { ...(rows.get(b ?? '') as TaskRow), status: TaskStatus.Completed, result: { out: 'b' }, payload: { in: 'changed' }, completed_at: new Date() };
      return Promise.resolve({ out: null, changes: { update: [rowA, rowB] } });
    });
    const stored = await h.query<{ step_key: string; status: string; attempts: number; agent_name: string | null; payload: unknown; result: unknown }>(
      `SELECT step_key, status, attempts, agent_name, payload, result FROM tasks WHERE parent_id IS NOT NULL ORDER BY step_key`,
    );
    expect(stored).toEqual([
      { step_key: 'a', status: 'RUNNING', attempts: 1, agent_name: 'alpha', payload: { in: 'a' }, result: { out: 'kept' } },
      { step_key: 'b', status: 'COMPLETED', attempts: 0, agent_name: null, payload: { in: 'changed' }, result: { out: 'b' } },
    ]);
  });

  it('stops the unfinished rows of a workflow, or of one step, clearing every due time; returns those that were running', async () => {
    const h = harness();
    const [root, running, pending, done, each] = await insertWorkflow(h.db, {}, [
      { step_key: 'running', status: 'RUNNING', agent_name: 'alpha', attempts: 2, deadline_at: seconds(10) },
      { step_key: 'pending', status: 'PENDING', next_attempt_at: seconds(5), error: 'earlier failure' },
      { step_key: 'done', status: 'COMPLETED', deadline_at: seconds(5) },
      { step_key: 'each', status: 'RUNNING', item_count: 2 },
    ]);
    const [itemRunning, itemPending] = await insertRows(h.db, [
      { parent_id: each, root_id: root, step_key: 'each[0]', status: 'RUNNING', agent_name: 'beta', attempts: 1, deadline_at: seconds(10) },
      { parent_id: each, root_id: root, step_key: 'each[1]', status: 'PENDING' },
    ]);
    const now = new Date();
    const { closed: items } = await transition(openSpec({ waitFor: [root ?? ''] }), () => Promise.resolve({ out: null, changes: { stops: [{ id: each ?? '', whole: false, reason: 'step each failed' }], now } }));
    expect(items.stopped).toEqual([{ id: itemRunning, root_id: root, agent_name: 'beta', attempts: 1, was: 'RUNNING' }]);
    const rows = async () => new Map((await h.query<{ id: string; status: string; error: string | null; deadline_at: Date | null; next_attempt_at: Date | null }>(`SELECT id, status, error, deadline_at, next_attempt_at FROM tasks WHERE parent_id IS NOT NULL`)).map((r) => [r.id, r]));
    let stored = await rows();
    expect(stored.get(itemRunning ?? '')).toMatchObject({ status: 'CANCELLED', error: 'step each failed', deadline_at: null });
    expect(stored.get(itemPending ?? '')).toMatchObject({ status: 'CANCELLED', error: null });
    expect(stored.get(running ?? '')).toMatchObject({ status: 'RUNNING' });

    const { closed: whole } = await transition(openSpec({ waitFor: [root ?? ''] }), () => Promise.resolve({ out: null, changes: { stops: [{ id: root ?? '', whole: true, reason: 'workflow cancelled' }], now } }));
    // The for_each step ran too, on no agent of its own: the caller tells agents only.
    expect(whole.stopped.map((r) => [r.id, r.agent_name, r.attempts]).sort()).toEqual([[running, 'alpha', 2], [each, null, 0]].sort());
    stored = await rows();
    expect(stored.get(running ?? '')).toMatchObject({ status: 'CANCELLED', error: 'workflow cancelled', deadline_at: null });
    expect(stored.get(pending ?? '')).toMatchObject({ status: 'CANCELLED', error: 'earlier failure', next_attempt_at: null });
    expect(stored.get(done ?? '')).toMatchObject({ status: 'COMPLETED', deadline_at: null });
    expect(stored.get(each ?? '')).toMatchObject({ status: 'CANCELLED' });
  });

  it("numbers a workflow's events in the order of its commits, each with the id of the one before it", async () => {
    const h = harness();
    const [root] = await insertWorkflow(h.db, { task_id: 'events-1' }, []);
    const [other] = await insertWorkflow(h.db, { task_id: 'events-2' }, []);
    const event = (rootId: string, kind: string) => ({ root_id: rootId, task_id: 'x', task_type: 'int_type', step_id: null, kind, status: 'RUNNING', data: { kind } });
    const { closed: first } = await transition(openSpec({ waitFor: [root ?? '', other ?? ''] }), () =>
      Promise.resolve({ out: null, changes: { events: [event(root ?? '', 'submitted'), event(other ?? '', 'submitted'), event(root ?? '', 'planned')] } }),
    );
    const [a1, b1, a2] = first.events;
    expect(first.events.map((e) => e.prev_id)).toEqual([null, null, a1?.id]);
    expect(a1?.id).toBeLessThan(b1?.id ?? 0);
    expect(b1?.id).toBeLessThan(a2?.id ?? 0);
    const { closed: second } = await transition(openSpec({ waitFor: [root ?? ''] }), () => Promise.resolve({ out: null, changes: { events: [event(root ?? '', 'dispatched')] } }));
    expect(second.events.map((e) => e.prev_id)).toEqual([a2?.id]);
    expect(await h.query(`SELECT kind, data FROM task_events WHERE root_id = $1 ORDER BY id`, [root])).toEqual([
      { kind: 'submitted', data: { kind: 'submitted' } },
      { kind: 'planned', data: { kind: 'planned' } },
      { kind: 'dispatched', data: { kind: 'dispatched' } },
    ]);
  });

  it('stores progress, reopens a finished workflow, and retires the rows a revised plan drops', async () => {
    const h = harness();
    const [root, kept, dropped, each] = await insertWorkflow(h.db, { result: { old: true }, response_sent_at: new Date(), plan: { steps: [] } }, [
      { step_key: 'kept', status: 'COMPLETED' },
      { step_key: 'dropped', status: 'FAILED' },
      { step_key: 'each', item_count: 1 },
    ]);
    const [item] = await insertRows(h.db, [{ parent_id: each, root_id: root, step_key: 'each[0]' }]);
    const revised = { ...PLAN, revision: 2 };
    const history = [{ plan: PLAN, failed_step: 'dropped', error: 'no', replaced_at: new Date().toISOString() }];
    await transition(openSpec({ waitFor: [root ?? ''] }), () =>
      Promise.resolve({
        out: null,
        changes: {
          progress: [{ id: kept ?? '', progress: { fraction: 0.5, message: 'half', attempt: 1, at: new Date().toISOString() } }],
          reopened: [root ?? ''],
          revisions: [{ rootId: root ?? '', plan: revised, history: history as never, kept: ['kept'], retiredRevision: 1 }],
        },
      }),
    );
    const rows = new Map((await h.query<{ id: string; step_key: string; progress: unknown }>(`SELECT id, step_key, progress FROM tasks WHERE parent_id IS NOT NULL`)).map((r) => [r.id, r]));
    expect(rows.get(kept ?? '')).toMatchObject({ step_key: 'kept', progress: { fraction: 0.5, message: 'half' } });
    expect(rows.get(dropped ?? '')?.step_key).toBe('dropped@1');
    expect(rows.get(each ?? '')?.step_key).toBe('each@1');
    expect(rows.get(item ?? '')?.step_key).toBe('each[0]@1');
    const [stored] = await h.query<{ result: unknown; response_sent_at: Date | null; plan_revision: number; plan: { revision: number }; plan_history: unknown[] }>(
      `SELECT result, response_sent_at, plan_revision, plan, plan_history FROM tasks WHERE id = $1`,
      [root],
    );
    expect(stored).toMatchObject({ result: null, response_sent_at: null, plan_revision: 2, plan: { revision: 2 }, plan_history: [{ failed_step: 'dropped' }] });
    const { out } = await transition(openSpec({ waitFor: [root ?? ''] }), (opened) => Promise.resolve({ out: opened.rows.map((r) => r.step_key) }));
    expect(out).toEqual(['kept']);
  });

  it('reads what transitions need beyond their rows: items by key, item results, inputs, results, plans, plan history', async () => {
    const h = harness();
    const [root, each] = await insertWorkflow(h.db, { plan: { steps: ['p'] }, plan_history: [{ failed_step: 'x' }] }, [{ step_key: 'each', item_count: 2, payload: { items: 2 }, result: { r: 1 } }]);
    const [i0, i1] = await insertRows(h.db, [
      { parent_id: each, root_id: root, step_key: 'each[0]', payload: { item: 0 }, result: { v: 0 } },
      { parent_id: each, root_id: root, step_key: 'each[1]', payload: { item: 1 } },
    ]);
    await h.tasks.transaction(async (tx) => {
      expect((await tx.itemsByKey([each ?? ''], ['each[1]'])).map((r) => [r.id, r.payload])).toEqual([[i1, { item: 1 }]]);
      expect((await tx.itemResults([each ?? ''])).sort((a, b) => a.step_key.localeCompare(b.step_key))).toEqual([
        { parent_id: each, step_key: 'each[0]', result: { v: 0 } },
        { parent_id: each, step_key: 'each[1]', result: null },
      ]);
      expect(await tx.payloads([i0 ?? ''])).toEqual([{ id: i0, payload: { item: 0 } }]);
      expect(await tx.results([each ?? ''])).toEqual([{ id: each, result: { r: 1 } }]);
      expect(await tx.plans([root ?? ''])).toEqual([{ id: root, plan: { steps: ['p'] } }]);
      expect(await tx.planHistory(root ?? '')).toEqual([{ failed_step: 'x' }]);
      expect(await tx.planHistory(randomUUID())).toEqual([]);
    });
  });

  it('locks the final responses left unsent past a time, oldest first, skipping those another replica holds', async () => {
    const h = harness();
    const [older] = await insertWorkflow(h.db, { task_id: 'older', status: 'COMPLETED', completed_at: seconds(-20) }, []);
    await insertWorkflow(h.db, { task_id: 'newer', status: 'FAILED', completed_at: seconds(-10) }, []);
    await insertWorkflow(h.db, { task_id: 'too-recent', status: 'FAILED', completed_at: seconds(-1) }, []);
    await insertWorkflow(h.db, { task_id: 'sent', status: 'COMPLETED', completed_at: seconds(-30), response_sent_at: seconds(-29) }, []);
    await insertWorkflow(h.db, { task_id: 'running' }, []);
    const locked = await h.tasks.transaction(async (tx) => {
      const found = (await tx.lockUnsentResponses(seconds(-5), 10)).map((r) => r.task_id);
      const meanwhile = await h.tasks.transaction(async (other) => (await other.lockUnsentResponses(seconds(-5), 10)).map((r) => r.task_id));
      const marked = await tx.markResponsesSent((await tx.lockUnsentResponses(seconds(-5), 10)).filter((r) => r.id === older));
      return { found, meanwhile, marked: marked.map((m) => m.task_id), limited: (await tx.lockUnsentResponses(seconds(-5), 1)).map((r) => r.task_id) };
    });
    expect(locked).toEqual({ found: ['older', 'newer'], meanwhile: [], marked: ['older'], limited: ['newer'] });
    expect(await h.tasks.transaction((tx) => tx.markResponsesSent([]))).toEqual([]);
  });
});
