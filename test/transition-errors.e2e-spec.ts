import { TaskStatus } from '@orchestrator/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TransitionJob } from '../apps/orchestrator/src/engine/transition-runner.js';
import type { Workflow } from '../apps/orchestrator/src/engine/workflow.js';
import { TestDatabase } from './support/database.js';
import { PgProxy } from './support/pg-proxy.js';
import { testEnv } from './support/test-env.js';
import { TransitionStand } from './support/transition-stand.js';

/** The close script of a transition: its writes and its COMMIT, in one query. */
const isTransitionCommit = (sql: string): boolean => sql.includes('EXECUTE update_rows') && /COMMIT\s*$/.test(sql);

/**
 * The transition runner against a real PostgreSQL, through a proxy that can cut its connections:
 * trouble of the database's own (a connection lost, a commit unanswered) is retried and never
 * charged to the work; a commit whose answer is lost is looked up, not applied twice; a new
 * workflow whose transition throws leaves nothing behind.
 */
describe('transitions meeting the database’s trouble', () => {
  let db: TestDatabase;
  let proxy: PgProxy;
  let stand: TransitionStand;

  beforeAll(async () => {
    db = await TestDatabase.connect();
    await db.reset();
    proxy = await PgProxy.start(testEnv().databaseUrl);
    stand = await TransitionStand.connect(proxy.url);
  });

  afterEach(() => {
    proxy.clearRules();
    stand.effects.length = 0;
  });

  afterAll(async () => {
    await stand?.close();
    await proxy?.close();
    await db?.close();
  });

  /** Completes a step; `applied` counts how often it ran. Each run takes a slot and leaves an effect named by its run. */
  function complete(rowId: string, applied: { runs: number }, during: () => Promise<void> = () => Promise.resolve()): TransitionJob<string> {
    return {
      target: { kind: 'row', rowId },
      rows: [rowId],
      apply: async (wf: Workflow | null) => {
        const row = wf?.rows.get(rowId);
        if (!wf || !row) throw new Error(`row ${rowId} not read`);
        applied.runs += 1;
        await during();
        wf.reservations.push({ agent: 'worker', subtaskId: `slot:${applied.runs}` });
        wf.patch(row, { status: TaskStatus.Completed, result: { run: applied.runs }, completed_at: wf.now });
        wf.effects.push({ kind: 'release', agent: 'worker', subtaskId: `effect:${applied.runs}` });
        return 'completed';
      },
      rejected: (reason) => ({
        target: { kind: 'row', rowId },
        rows: [rowId],
        apply: () => Promise.resolve(`rejected: ${reason}`),
      }),
    };
  }

  async function row(id: string): Promise<{ status: string; result: unknown }> {
    const [found] = await db.query<{ status: string; result: unknown }>(`SELECT status, result FROM tasks WHERE id = $1`, [id]);
    return found ?? { status: 'missing', result: null };
  }

  /** How many times a batch met trouble of that kind and was queued again. */
  async function retriesOf(kind: string): Promise<number> {
    const { values } = await stand.metrics.transitionRetries.get();
    return values.filter((value) => value.labels['outcome'] === 'retried' && value.labels['reason'] === kind).reduce((sum, value) => sum + value.value, 0);
  }

  const released = (): string[] => stand.effects.flatMap((effect) => (effect.kind === 'release' ? [effect.subtaskId] : []));

  it('leaves no root behind when a new workflow’s transition throws; started again, it runs whole', async () => {
    await expect(stand.start('half-made', () => {
      throw new Error('the plan cannot start');
    })).rejects.toThrow('the plan cannot start');
    expect(await db.query(`SELECT id FROM tasks WHERE task_id = 'half-made'`)).toEqual([]);
    const rowId = await stand.start('half-made');
    const [root] = await db.query<{ status: string; steps: number }>(
      `SELECT r.status, (SELECT count(*)::int FROM tasks AS s WHERE s.root_id = r.id AND s.parent_id IS NOT NULL) AS steps FROM tasks AS r WHERE r.task_id = 'half-made' AND r.parent_id IS NULL`,
    );
    expect(root).toEqual({ status: 'RUNNING', steps: 1 });
    expect((await row(rowId)).status).toBe('PENDING');
  });

  it('applies again, after a backoff, a transition whose connection the server terminated: not a rejected answer', async () => {
    const rowId = await stand.start('terminated');
    const applied = { runs: 0 };
    const outcome = await stand.queue.apply(
      complete(rowId, applied, async () => {
        if (applied.runs > 1) return;
        // The transition's own connection, idle in its transaction while the job runs.
        await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle in transaction' AND pid <> pg_backend_pid()`);
      }),
    );
    expect(outcome).toBe('completed');
    expect(applied.runs).toBe(2);
    expect(await row(rowId)).toEqual({ status: 'COMPLETED', result: { run: 2 } });
    // The slot of the run that did not commit was given back; the effects of the one that did ran.
    expect(released().sort()).toEqual(['effect:2', 'slot:1']);
    const retried = await stand.metrics.transitionRetries.get();
    expect(retried.values.some((value) => value.labels['outcome'] === 'retried' && value.value >= 1)).toBe(true);
  });

  it.each([
    ['cut-after', 'a commit whose answer was lost for what it was when it committed: applied once, its effects run, no slot given back', 1, ['effect:1']],
    ['cut-before', 'a commit that never reached the server for a transaction that did not commit: its slot given back, applied again', 2, ['effect:2', 'slot:1']],
  ] as const)('(%s) takes %s', async (action, _what, runs, effects) => {
    const rowId = await stand.start(`${action}-commit`);
    const cut = proxy.rule({ match: isTransitionCommit, action, times: 1 });
    const applied = { runs: 0 };
    expect(await stand.queue.apply(complete(rowId, applied))).toBe('completed');
    expect(cut.hits).toBe(1);
    expect(applied.runs).toBe(runs);
    expect(await row(rowId)).toEqual({ status: 'COMPLETED', result: { run: runs } });
    expect(released().sort()).toEqual(effects);
  });

  it.each([
    ['40001', 'serialization'],
    ['40P01', 'deadlock'],
    ['57P03', 'shutdown'],
    ['53200', 'resource'],
  ] as const)('applies again, after a backoff, a transition the server refused with %s (%s): not a rejected answer', async (code, kind) => {
    const rowId = await stand.start(`refused-${code}`);
    // The server refuses the transition's writes of that row once, with that code: a sequence is not rolled back with them.
    await db.query(`CREATE SEQUENCE IF NOT EXISTS trouble_once`);
    await db.query(`SELECT setval('trouble_once', 1, false)`);
    await db.query(
      `CREATE OR REPLACE FUNCTION trouble_once() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.id = '${rowId}' AND nextval('trouble_once') = 1 THEN RAISE EXCEPTION 'the server refuses for now' USING ERRCODE = '${code}'; END IF;
         RETURN NEW;
       END $$`,
    );
    await db.query(`CREATE OR REPLACE TRIGGER trouble_once BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION trouble_once()`);
    try {
      const before = await retriesOf(kind);
      const applied = { runs: 0 };
      expect(await stand.queue.apply(complete(rowId, applied))).toBe('completed');
      expect(applied.runs).toBe(2);
      expect(await row(rowId)).toEqual({ status: 'COMPLETED', result: { run: 2 } });
      expect(released().sort()).toEqual(['effect:2', 'slot:1']);
      expect(await retriesOf(kind)).toBe(before + 1);
    } finally {
      await db.query(`DROP TRIGGER IF EXISTS trouble_once ON tasks`);
    }
  });

  it('still refuses the one answer the database refuses, alone', async () => {
    const rowId = await stand.start('refused');
    const job = complete(rowId, { runs: 0 });
    const outcome = await stand.queue.apply({
      ...job,
      apply: async (wf) => {
        const found = wf?.rows.get(rowId);
        if (!wf || !found) throw new Error('not read');
        wf.patch(found, { status: TaskStatus.Completed, result: { text: 'a\u0000b' }, completed_at: wf.now });
        return Promise.resolve('completed');
      },
    });
    expect(outcome).toMatch(/^rejected: .*(unsupported Unicode escape sequence|\\u0000)/);
  });
});
