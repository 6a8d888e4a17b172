import { TaskStatus } from '@orchestrator/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransitionJob } from '../apps/orchestrator/src/engine/transition-runner.js';
import type { Workflow } from '../apps/orchestrator/src/engine/workflow.js';
import { TestDatabase } from './support/database.js';
import { testEnv } from './support/test-env.js';
import { TransitionStand } from './support/transition-stand.js';

/**
 * The transition runner against a real PostgreSQL: transitions of several workflows share a
 * transaction, and one the database refuses, or one that throws, touches only its own workflow.
 */
describe('transitions in one batch, one of them bad', () => {
  let db: TestDatabase;
  let stand: TransitionStand;

  beforeAll(async () => {
    db = await TestDatabase.connect();
    await db.reset();
    stand = await TransitionStand.connect(testEnv().databaseUrl);
  });

  afterAll(async () => {
    await stand?.close();
    await db?.close();
  });

  /** Starts workflows with one step each; returns their step rows' ids. */
  async function start(count: number, prefix: string): Promise<string[]> {
    return Promise.all(Array.from({ length: count }, (_, i) => stand.start(`${prefix}-${i}`)));
  }

  /** How many times each job was applied (in a batch that committed or not), by row. */
  const applied = new Map<string, number>();

  /** Completes a step with `result`; `rejected` records the refusal the way answers do. */
  function complete(rowId: string, result: Record<string, unknown>, effect?: () => void): TransitionJob<string> {
    return {
      target: { kind: 'row', rowId },
      rows: [rowId],
      apply: (wf: Workflow | null) => {
        applied.set(rowId, (applied.get(rowId) ?? 0) + 1);
        const row = wf?.rows.get(rowId);
        if (!wf || !row) throw new Error(`row ${rowId} not read`);
        effect?.();
        wf.patch(row, { status: TaskStatus.Completed, result, completed_at: wf.now });
        wf.effects.push({ kind: 'release', agent: 'worker', subtaskId: `${rowId}:1` });
        return Promise.resolve('completed');
      },
      rejected: (reason) => ({
        target: { kind: 'row', rowId },
        rows: [rowId],
        apply: (wf: Workflow | null) => {
          const row = wf?.rows.get(rowId);
          if (!wf || !row) throw new Error(`row ${rowId} not read`);
          wf.patch(row, { status: TaskStatus.Failed, error: `answer rejected: ${reason}`, completed_at: wf.now });
          return Promise.resolve('rejected');
        },
      }),
    };
  }

  async function rows(ids: string[]): Promise<{ id: string; status: string; error: string | null; result: unknown; xmin: string }[]> {
    const found = await db.query<{ id: string; status: string; error: string | null; result: unknown; xmin: string }>(
      `SELECT id, status, error, result, xmin::text AS xmin FROM tasks WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return ids.map((id) => found.find((row) => row.id === id) ?? { id, status: 'missing', error: null, result: null, xmin: '' });
  }

  it('records a result the database refuses as a failed attempt of its workflow alone; the others commit', async () => {
    const ids = await start(10, 'db-refuses');
    stand.effects.length = 0;
    applied.clear();
    // Past the checks at the edge (this calls the runner directly): PostgreSQL refuses the NUL in jsonb.
    const outcomes = await Promise.all(ids.map((id, i) => stand.queue.apply(complete(id, i === 4 ? { text: 'a\u0000b' } : { n: i }))));
    expect(outcomes).toEqual(ids.map((_, i) => (i === 4 ? 'rejected' : 'completed')));
    const stored = await rows(ids);
    expect(stored.map((row) => row.status)).toEqual(ids.map((_, i) => (i === 4 ? 'FAILED' : 'COMPLETED')));
    expect(stored[4]?.error).toMatch(/^answer rejected: .*(unsupported Unicode escape sequence|\\u0000)/);
    expect(stored.filter((_, i) => i !== 4).map((row) => row.result)).toEqual(ids.filter((_, i) => i !== 4).map((_, k) => ({ n: k < 4 ? k : k + 1 })));
    // The effects of the transitions that committed ran once each; none of the refused one's.
    expect(stand.effects.filter((e) => e.kind === 'release')).toHaveLength(9);
    // Those queued while the first ran shared the next batch (the first may have had one of its own),
    // which the database refused; then each was applied alone.
    expect(ids.slice(1).map((id) => applied.get(id))).toEqual(ids.slice(1).map(() => 2));
    expect(new Set(stored.map((row) => row.xmin)).size).toBe(10);
  });

  it('keeps a transition that throws out of the batch and applies the others', async () => {
    const ids = await start(5, 'throws');
    applied.clear();
    const outcomes = await Promise.allSettled(
      ids.map((id, i) =>
        stand.queue.apply({
          ...complete(id, { n: i }, () => {
            if (i === 2) throw new Error('the engine cannot take this');
          }),
          rejected: undefined,
        }),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((outcomes[2] as PromiseRejectedResult).reason)).toContain('the engine cannot take this');
    const stored = await rows(ids);
    expect(stored.map((row) => row.status)).toEqual(['COMPLETED', 'COMPLETED', 'PENDING', 'COMPLETED', 'COMPLETED']);
    // Those queued with it committed together, in the batch it was left out of (the first may have
    // gone alone); it was tried once more, alone.
    expect(new Set([stored[1]?.xmin, stored[3]?.xmin, stored[4]?.xmin]).size).toBe(1);
    expect(ids.map((id) => applied.get(id))).toEqual([1, 1, 2, 1, 1]);
  });
});
