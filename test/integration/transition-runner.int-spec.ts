import { describe, expect, it } from 'vitest';
import { useEngineHarness, type EngineHarness, type SentSubtask } from './support/engine-harness.js';

/** The transaction a row was last written in. */
async function writtenBy(h: EngineHarness, rowIds: readonly string[]): Promise<string[]> {
  const rows = await h.query<{ id: string; xmin: string }>(`SELECT id, xmin::text AS xmin FROM tasks WHERE id = ANY($1::uuid[])`, [rowIds]);
  return rowIds.map((id) => rows.find((row) => row.id === id)?.xmin ?? 'missing');
}

/**
 * TransitionRunner through the engine, one batch at a time (DB_POOL_SIZE 3): events that arrive
 * together share one transaction, and one that cannot be applied harms only its own workflow.
 */
describe('transitions applied in batches', () => {
  const harness = useEngineHarness({
    env: { DB_POOL_SIZE: '3' },
    workflows: { one: { defaults: { max_attempts: 2 }, steps: [{ id: 'x', agent: 'alpha', task_type: 'w' }] } },
  });

  async function started(count: number, prefix: string): Promise<SentSubtask[]> {
    const h = harness();
    for (let i = 0; i < count; i++) await h.submit({ task_id: `${prefix}-${i}`, task_type: 'one' });
    return h.sentFor('x');
  }

  it('commits the answers that arrive while a batch runs together, in the next one', async () => {
    const h = harness();
    const sent = await started(6, 'batch');
    await Promise.all(sent.map((s, i) => h.answer(s, { n: i })));
    const xmins = await writtenBy(h, sent.map((s) => s.rowId));
    // One batch runs at a time: the first may go alone (if nothing else was waiting), those that waited share one commit.
    expect(new Set(xmins.slice(1)).size).toBe(1);
    for (let i = 0; i < sent.length; i++) expect((await h.rows(`batch-${i}`)).get('x')).toMatchObject({ status: 'COMPLETED', result: { n: i } });
  });

  it('keeps a transition that throws out of its batch; the others commit together, and it fails alone', async () => {
    const h = harness();
    const sent = await started(5, 'throws');
    // A row its plan does not know: applying an answer to it throws.
    await h.query(`UPDATE tasks SET step_key = 'unknown' WHERE id = $1`, [sent[2]?.rowId]);
    const outcomes = await Promise.allSettled(sent.map((s, i) => h.answer(s, { n: i })));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((outcomes[2] as PromiseRejectedResult).reason)).toContain('has no step "unknown"');
    const xmins = await writtenBy(h, sent.map((s) => s.rowId));
    expect(new Set([xmins[1], xmins[3], xmins[4]]).size).toBe(1);
    const [row] = await h.query<{ status: string; result: unknown }>(`SELECT status, result FROM tasks WHERE id = $1`, [sent[2]?.rowId]);
    expect(row).toEqual({ status: 'RUNNING', result: null });
  });

  it('applies a batch the database refuses one event at a time: the refused answer becomes a failed attempt, the others commit', async () => {
    const h = harness();
    const sent = await started(4, 'refused');
    const outcomes = await Promise.all(sent.map((s, i) => h.answer(s, i === 2 ? { text: 'nul \u0000 here' } : { n: i })));
    expect(outcomes).toEqual(['alpha', 'alpha', 'alpha', 'alpha']);
    const statuses = [];
    for (let i = 0; i < sent.length; i++) statuses.push((await h.rows(`refused-${i}`)).get('x'));
    expect(statuses.map((r) => r?.status)).toEqual(['COMPLETED', 'COMPLETED', 'PENDING', 'COMPLETED']);
    expect(statuses[2]?.error).toMatch(/^answer rejected: .*(unsupported Unicode escape sequence|\\u0000)/);
    expect(statuses[3]?.result).toEqual({ n: 3 });
  });
});
