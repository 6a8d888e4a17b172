import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { LOCK_KEY } from '../../apps/orchestrator/src/persistence/transition-statements.js';
import { useEngineHarness } from './support/engine-harness.js';
import { insertRows, insertWorkflow, seconds } from './support/rows.js';

/** The queries of TasksRepository against a real PostgreSQL with the service's migrations. */
describe('TasksRepository', () => {
  const harness = useEngineHarness({ workflows: {} });

  describe('findDue', () => {
    it('takes steps due for dispatch by priority, then oldest first, and leaves out those not due yet', async () => {
      const h = harness();
      const t0 = Date.now();
      const [, lowOld] = await insertWorkflow(h.db, { priority: 'LOW' }, [{ step_key: 'x', priority: 'LOW', next_attempt_at: seconds(-5, t0), created_at: seconds(-50, t0) }]);
      const [, critical] = await insertWorkflow(h.db, { priority: 'CRITICAL' }, [{ step_key: 'x', priority: 'CRITICAL', next_attempt_at: seconds(-1, t0), created_at: seconds(-10, t0) }]);
      const [, normalNew] = await insertWorkflow(h.db, {}, [{ step_key: 'x', next_attempt_at: seconds(-1, t0), created_at: seconds(-20, t0) }]);
      const [, normalOld] = await insertWorkflow(h.db, {}, [{ step_key: 'x', next_attempt_at: seconds(-1, t0), created_at: seconds(-30, t0) }]);
      const [, high] = await insertWorkflow(h.db, { priority: 'HIGH' }, [{ step_key: 'x', priority: 'HIGH', next_attempt_at: new Date(t0), created_at: seconds(-1, t0) }]);
      await insertWorkflow(h.db, { priority: 'CRITICAL' }, [{ step_key: 'x', priority: 'CRITICAL', next_attempt_at: seconds(1, t0) }]);
      await insertWorkflow(h.db, {}, [{ step_key: 'x', status: 'RUNNING', next_attempt_at: seconds(-1, t0) }]);
      await insertRows(h.db, [{ status: 'RUNNING', next_attempt_at: seconds(10, t0) }]);
      const due = await h.tasks.findDue(new Date(t0), 10);
      expect(due.map((d) => d.rowIds)).toEqual([[critical], [high], [normalOld], [normalNew], [lowOld]]);
      const limited = await h.tasks.findDue(new Date(t0), 2);
      expect(limited.map((d) => d.rowIds)).toEqual([[critical], [high]]);
    });

    it('takes attempts past their deadline, workflows past theirs and workflows whose revision lease has passed, grouped by workflow', async () => {
      const h = harness();
      const now = new Date();
      const [late, lateStep, lateItemParent] = await insertWorkflow(h.db, {}, [
        { step_key: 'a', status: 'RUNNING', deadline_at: seconds(-2) },
        { step_key: 'each', status: 'RUNNING', item_count: 1 },
      ]);
      const [lateItem] = await insertRows(h.db, [{ parent_id: lateItemParent, root_id: late, step_key: 'each[0]', status: 'RUNNING', deadline_at: seconds(-1) }]);
      await insertWorkflow(h.db, {}, [{ step_key: 'a', status: 'RUNNING', deadline_at: seconds(5) }]);
      const [overdue] = await insertWorkflow(h.db, { deadline_at: seconds(-1) }, []);
      await insertWorkflow(h.db, { deadline_at: seconds(-1), status: 'COMPLETED' }, []);
      const [leased] = await insertWorkflow(h.db, { next_attempt_at: seconds(-1) }, []);
      await insertWorkflow(h.db, { next_attempt_at: seconds(30) }, []);
      const due = await h.tasks.findDue(now, 10);
      expect(due.map((d) => ({ ...d, rowIds: [...d.rowIds].sort() })).sort((a, b) => a.rootId.localeCompare(b.rootId))).toEqual(
        [
          { rootId: late, rowIds: [lateStep, lateItem].sort() },
          { rootId: overdue, rowIds: [] },
          { rootId: leased, rowIds: [] },
        ].sort((a, b) => (a.rootId ?? '').localeCompare(b.rootId ?? '')),
      );
      expect(await h.tasks.findDue(seconds(-10), 10)).toEqual([]);
    });
  });

  describe('listRoots', () => {
    async function fixture(): Promise<void> {
      const h = harness();
      const base = Date.parse('2026-01-01T00:00:00Z');
      // Created one second apart, but two at the same microsecond (their ids decide).
      const specs = [
        { task_id: 'l-0', status: 'COMPLETED', task_type: 'alpha', created_at: new Date(base) },
        { task_id: 'l-1', status: 'FAILED', task_type: 'alpha', created_at: new Date(base + 1000) },
        { task_id: 'l-2', status: 'COMPLETED', task_type: 'beta', created_at: new Date(base + 2000) },
        { task_id: 'l-3', status: 'RUNNING', task_type: 'alpha', created_at: new Date(base + 3000) },
        { id: '00000000-0000-4000-8000-00000000000a', task_id: 'l-4a', status: 'COMPLETED', task_type: 'alpha', created_at: new Date(base + 4000) },
        { id: '00000000-0000-4000-8000-00000000000b', task_id: 'l-4b', status: 'COMPLETED', task_type: 'alpha', created_at: new Date(base + 4000) },
      ];
      await insertRows(h.db, specs);
      await insertRows(h.db, [{ parent_id: (await h.root('l-0')).id, root_id: (await h.root('l-0')).id, step_key: 'not-a-root', created_at: new Date(base + 9000) }]);
    }

    async function pages(filter: { status?: string; task_type?: string }, limit: number): Promise<string[][]> {
      const h = harness();
      const out: string[][] = [];
      let after: { micros: string; id: string } | undefined;
      for (;;) {
        const page = await h.tasks.listRoots({ ...(filter as object), limit, after });
        out.push(page.items.map((item) => item.task_id));
        expect(page.total).toBeNull();
        if (!page.more) return out;
        after = page.items.at(-1)?.position;
      }
    }

    it('pages newest first (the later id first at the same instant), each root once, by keyset', async () => {
      await fixture();
      expect(await pages({}, 4)).toEqual([
        ['l-4b', 'l-4a', 'l-3', 'l-2'],
        ['l-1', 'l-0'],
      ]);
      expect(await pages({}, 2)).toEqual([
        ['l-4b', 'l-4a'],
        ['l-3', 'l-2'],
        ['l-1', 'l-0'],
      ]);
      expect(await pages({}, 6)).toEqual([['l-4b', 'l-4a', 'l-3', 'l-2', 'l-1', 'l-0']]);
    });

    it('filters by status and by task type, and counts only when asked', async () => {
      const h = harness();
      await fixture();
      expect(await pages({ status: 'COMPLETED' }, 2)).toEqual([['l-4b', 'l-4a'], ['l-2', 'l-0']]);
      expect(await pages({ task_type: 'alpha' }, 10)).toEqual([['l-4b', 'l-4a', 'l-3', 'l-1', 'l-0']]);
      expect(await pages({ status: 'COMPLETED', task_type: 'alpha' }, 10)).toEqual([['l-4b', 'l-4a', 'l-0']]);
      const counted = await h.tasks.listRoots({ status: 'COMPLETED' as never, limit: 1, count: true });
      expect(counted).toMatchObject({ total: 4, more: true });
      expect(counted.items[0]).toMatchObject({ task_id: 'l-4b', status: 'COMPLETED', task_type: 'alpha', position: { id: '00000000-0000-4000-8000-00000000000b', micros: String(Date.parse('2026-01-01T00:00:04Z') * 1000) } });
    });
  });

  describe('deleteFinished', () => {
    it('deletes the oldest finished workflows first, a batch at a time, with their rows and history', async () => {
      const h = harness();
      const cutoff = seconds(-3600);
      const old = [];
      for (let i = 0; i < 5; i++) old.push(await insertWorkflow(h.db, { task_id: `old-${i}`, status: 'COMPLETED', completed_at: seconds(-7200 - (5 - i) * 60) }, [{ step_key: 'a', status: 'COMPLETED' }]));
      await insertWorkflow(h.db, { task_id: 'recent', status: 'FAILED', completed_at: seconds(-60) }, [{ step_key: 'a' }]);
      await insertWorkflow(h.db, { task_id: 'running' }, [{ step_key: 'a' }]);
      for (const [rootId] of old) await h.query(`INSERT INTO task_events (root_id, task_id, task_type, kind, status) VALUES ($1, 'x', 't', 'submitted', 'RUNNING'), ($1, 'x', 't', 'completed', 'COMPLETED')`, [rootId]);
      const left = async (): Promise<string[]> => (await h.query<{ task_id: string }>(`SELECT task_id FROM tasks WHERE parent_id IS NULL ORDER BY task_id`)).map((r) => r.task_id);

      expect(await h.tasks.deleteFinished(cutoff, 2)).toEqual({ workflows: 2, rows: 4, events: 4 });
      expect(await left()).toEqual(['old-2', 'old-3', 'old-4', 'recent', 'running']);
      expect(await h.tasks.deleteFinished(cutoff, 2)).toEqual({ workflows: 2, rows: 4, events: 4 });
      expect(await left()).toEqual(['old-4', 'recent', 'running']);
      expect(await h.tasks.deleteFinished(cutoff, 2)).toEqual({ workflows: 1, rows: 2, events: 2 });
      expect(await h.tasks.deleteFinished(cutoff, 2)).toEqual({ workflows: 0, rows: 0, events: 0 });
      expect(await h.query(`SELECT count(*)::int AS n FROM tasks`)).toEqual([{ n: 4 }]);
      expect(await h.query(`SELECT count(*)::int AS n FROM task_events`)).toEqual([{ n: 0 }]);
    });

    it('skips workflows whose lock another transaction holds, and deletes them once it is free', async () => {
      const h = harness();
      const [first] = await insertWorkflow(h.db, { status: 'COMPLETED', completed_at: seconds(-7200) }, [{ step_key: 'a', status: 'COMPLETED' }]);
      await insertWorkflow(h.db, { status: 'COMPLETED', completed_at: seconds(-7100) }, []);
      const other = new pg.Client({ connectionString: h.config.DATABASE_URL });
      await other.connect();
      try {
        // The lock a transition (or another replica's deletion) takes for the workflow, held until its transaction ends.
        await other.query('BEGIN');
        await other.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY}) FROM (SELECT $1::uuid AS id) AS r`, [first]);
        expect(await h.tasks.deleteFinished(seconds(-3600), 2)).toEqual({ workflows: 1, rows: 1, events: 0 });
        expect((await h.query<{ id: string }>(`SELECT id FROM tasks WHERE parent_id IS NULL`)).map((r) => r.id)).toEqual([first]);
        await other.query('COMMIT');
        expect(await h.tasks.deleteFinished(seconds(-3600), 2)).toEqual({ workflows: 1, rows: 2, events: 0 });
        expect(await h.query(`SELECT id FROM tasks`)).toEqual([]);
      } finally {
        await other.query('ROLLBACK');
        await other.end();
      }
    });
  });

  it('tallies the steps of each workflow\'s current plan by how they ended, and counts the running workflows', async () => {
    const h = harness();
    const [a, , , , , , each] = await insertWorkflow(h.db, {}, [
      { step_key: 'x', status: 'COMPLETED', attempts: 1, result: { ok: true } },
      { step_key: 'skipped', status: 'COMPLETED', attempts: 0, result: { skipped: true, reason: 'when is false' } },
      { step_key: 'empty', status: 'COMPLETED', attempts: 0, result: { nothing: true } },
      { step_key: 'y', status: 'FAILED', attempts: 2 },
      { step_key: 'z', status: 'CANCELLED', attempts: 1 },
      { step_key: 'each', status: 'RUNNING', item_count: 2 },
      // A step of a plan a revision retired.
      { step_key: 'old@1', status: 'COMPLETED', attempts: 1 },
    ]);
    // Items are not steps.
    await insertRows(h.db, [{ parent_id: each, root_id: a, step_key: 'each[0]', status: 'COMPLETED', attempts: 1 }, { parent_id: each, root_id: a, step_key: 'each[1]', status: 'FAILED', attempts: 1 }]);
    const [b] = await insertWorkflow(h.db, { status: 'COMPLETED' }, [{ step_key: 'x', status: 'PENDING' }]);
    const counts = await h.tasks.stepCounts([a ?? '', b ?? '']);
    expect(Object.fromEntries(counts)).toEqual({
      [a ?? '']: { total: 6, done: 2, skipped: 1, failed: 1, cancelled: 1 },
      [b ?? '']: { total: 1, done: 0, skipped: 0, failed: 0, cancelled: 0 },
    });
    expect((await h.tasks.stepCounts([])).size).toBe(0);
    expect(await h.tasks.countRunningWorkflows()).toBe(1);
  });

  it('finds roots by task_id and by id, never a step, and a workflow\'s steps in the order they were made', async () => {
    const h = harness();
    const [root, later, earlier] = await insertWorkflow(h.db, { task_id: 'find-me' }, [
      { step_key: 'b', created_at: seconds(2) },
      { step_key: 'a', created_at: seconds(1) },
    ]);
    expect((await h.tasks.findRootByTaskId('find-me'))?.id).toBe(root);
    expect((await h.tasks.findRootById(root ?? ''))?.task_id).toBe('find-me');
    expect(await h.tasks.findRootById(later ?? '')).toBeNull();
    expect(await h.tasks.findRootByTaskId(later ?? '')).toBeNull();
    expect(await h.tasks.findRootByTaskId('nobody')).toBeNull();
    expect((await h.tasks.findSteps(root ?? '')).map((s) => s.id)).toEqual([earlier, later]);
  });

  it('marks final responses sent once, each with its answer_sent event after the last of its workflow', async () => {
    const h = harness();
    const [root] = await insertWorkflow(h.db, { task_id: 'sent-1', status: 'COMPLETED', completed_at: seconds(-1) }, []);
    const [{ id: before }] = await h.query<{ id: string }>(`INSERT INTO task_events (root_id, task_id, task_type, kind, status) VALUES ($1, 'sent-1', 'int_type', 'completed', 'COMPLETED') RETURNING id`, [root]);
    const run = { id: root ?? '', completed_at: (await h.root('sent-1')).completed_at };
    const [event] = await h.tasks.markResponsesSent([run]);
    expect(event).toMatchObject({ root_id: root, task_id: 'sent-1', task_type: 'int_type', status: 'COMPLETED', prev_id: before });
    expect((await h.root('sent-1')).response_sent_at).not.toBeNull();
    expect(await h.tasks.markResponsesSent([run])).toEqual([]);
    expect(await h.tasks.markResponsesSent([])).toEqual([]);
    expect((await h.history('sent-1')).map((e) => e.kind)).toEqual(['completed', 'answer_sent']);
    await h.tasks.ping();
  });
});
