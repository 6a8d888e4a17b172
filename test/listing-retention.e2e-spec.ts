import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { pairAgents } from './support/pair-agents.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');

interface Page {
  items: { task_id: string; status: string; task_type: string; progress: { done: number; skipped: number; failed: number; cancelled: number; total: number } }[];
  limit: number;
  next_cursor: string | null;
  total?: number;
}

describe('listing tasks a page at a time, and forgetting old ones', () => {
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    env: { RETENTION_DAYS: '1', RETENTION_INTERVAL_MS: '200', RETENTION_BATCH: '3' },
    agents: pairAgents(),
    waitForAgents: 2,
  });

  /** Every page of a listing, following next_cursor. */
  async function allPages(query: string, limit: number): Promise<Page['items']> {
    const seen: Page['items'] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await stack.get<Page>(`/tasks?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(limit);
      expect(page.total).toBeUndefined();
      seen.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return seen;
  }

  it('pages through every filter newest first, each task once, while more are being created', async () => {
    // Submitted one after another (each stored before the next is sent): their order is known.
    const submitted: string[] = [];
    for (let i = 0; i < 17; i++) {
      const res = await fetch(`${stack.orchestrator.baseUrl}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ task_id: `list-${i}`, task_type: i % 4 === 1 ? 'e2e_pair_quick' : 'e2e_pair', payload: { text: `l${i}` } }),
      });
      expect(res.status).toBe(202);
      submitted.push(`list-${i}`);
    }
    const newestFirst = [...submitted].reverse();
    const typeOf = (id: string): string => (Number(id.slice('list-'.length)) % 4 === 1 ? 'e2e_pair_quick' : 'e2e_pair');
    await waitFor('the 17 to finish', async () => ((await stack.get<Page>('/tasks?status=RUNNING&limit=100')).items.length === 0 ? true : undefined));
    // One failed, for the filters (how it failed does not matter to the listing).
    await stack.db.query(`UPDATE tasks SET status = 'FAILED' WHERE parent_id IS NULL AND task_id = 'list-3'`);

    // A page boundary with tasks created meanwhile: newer ones do not shift the pages that follow.
    const first = await stack.get<Page>('/tasks?limit=5');
    await stack.submit({ task_id: 'list-late', task_type: 'e2e_pair', payload: { text: 'late' } });
    const second = await stack.get<Page>(`/tasks?limit=5&cursor=${first.next_cursor}`);
    expect([...first.items, ...second.items].map((t) => t.task_id)).toEqual(newestFirst.slice(0, 10));
    const all = ['list-late', ...newestFirst];

    expect((await allPages('', 4)).map((t) => t.task_id)).toEqual(all);
    expect((await allPages('status=COMPLETED', 5)).map((t) => t.task_id)).toEqual(all.filter((id) => id !== 'list-3'));
    expect((await allPages('task_type=e2e_pair', 6)).map((t) => t.task_id)).toEqual(all.filter((id) => id === 'list-late' || typeOf(id) === 'e2e_pair'));
    expect((await allPages('task_type=e2e_pair_quick', 2)).map((t) => t.task_id)).toEqual(newestFirst.filter((id) => typeOf(id) === 'e2e_pair_quick'));
    const failed = await allPages('status=FAILED&task_type=e2e_pair', 2);
    expect(failed.map((t) => t.task_id)).toEqual(['list-3']);

    const counted = await stack.get<Page>('/tasks?status=COMPLETED&limit=1&count=true');
    expect(counted.total).toBe(all.length - 1);
    expect(counted.items[0].progress).toEqual({ done: 2, skipped: 0, failed: 0, cancelled: 0, total: 2 });

    for (const [query, message] of [
      ['cursor=bm90LWEtY3Vyc29y', "cursor: is not a page's next_cursor"],
      ['offset=10', 'offset: is not a parameter of this route'],
      ['count=yes', 'count: must be true or false'],
      ['limit=0', 'limit: must be at least 1'],
    ] as const) {
      const res = await fetch(`${stack.orchestrator.baseUrl}/tasks?${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toContain(message);
    }
  });

  it('deletes workflows finished before RETENTION_DAYS with their steps, in batches, and keeps the rest', async () => {
    await Promise.all(Array.from({ length: 8 }, (_, i) => stack.submit({ task_id: `old-${i}`, task_type: 'e2e_pair', payload: { text: `o${i}` } })));
    await stack.submit({ task_id: 'recent', task_type: 'e2e_pair', payload: { text: 'r' } });
    // Aged by hand: seven finished two days ago, one a little under a day ago.
    await stack.db.query(`UPDATE tasks SET completed_at = now() - interval '2 days' WHERE parent_id IS NULL AND task_id LIKE 'old-%' AND task_id <> 'old-7'`);
    await stack.db.query(`UPDATE tasks SET completed_at = now() - interval '23 hours' WHERE parent_id IS NULL AND task_id = 'old-7'`);
    const [{ before }] = await stack.db.query<{ before: number }>(
      `SELECT count(*)::int AS before FROM tasks s JOIN tasks r ON s.root_id = r.id WHERE r.task_id LIKE 'old-%' AND r.task_id <> 'old-7'`,
    );
    expect(before).toBe(7 * 3);
    const [{ history }] = await stack.db.query<{ history: number }>(
      `SELECT count(*)::int AS history FROM task_events WHERE task_id LIKE 'old-%' AND task_id <> 'old-7'`,
    );
    expect(history).toBeGreaterThan(7);

    const deadline = Date.now() + 20_000;
    let left = -1;
    while (Date.now() < deadline) {
      [{ left }] = await stack.db.query<{ left: number }>(
        `SELECT count(*)::int AS left FROM tasks WHERE root_id IN (SELECT id FROM tasks WHERE parent_id IS NULL AND task_id LIKE 'old-%' AND task_id <> 'old-7')`,
      );
      if (left === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(left).toBe(0);
    const [{ orphans }] = await stack.db.query<{ orphans: number }>(`SELECT count(*)::int AS orphans FROM tasks s WHERE NOT EXISTS (SELECT 1 FROM tasks r WHERE r.id = s.root_id)`);
    expect(orphans).toBe(0);
    const [{ events }] = await stack.db.query<{ events: number }>(`SELECT count(*)::int AS events FROM task_events WHERE task_id LIKE 'old-%' AND task_id <> 'old-7'`);
    expect(events).toBe(0);
    const [{ keptHistory }] = await stack.db.query<{ keptHistory: number }>(
      `SELECT count(*)::int AS "keptHistory" FROM task_events WHERE task_id IN ('old-7', 'recent')`,
    );
    expect(keptHistory).toBeGreaterThan(0);
    const kept = await stack.db.query<{ task_id: string }>(`SELECT task_id FROM tasks WHERE parent_id IS NULL AND task_id IN ('old-7', 'recent') ORDER BY task_id`);
    expect(kept.map((row) => row.task_id)).toEqual(['old-7', 'recent']);
    expect((await fetch(`${stack.orchestrator.baseUrl}/tasks/old-0`)).status).toBe(404);

    const metrics = await (await fetch(`${stack.orchestrator.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/orchestrator_retention_deleted_total\{what="workflows"\} 7\b/);
    expect(metrics).toMatch(/orchestrator_retention_deleted_total\{what="rows"\} 21\b/);
    // At least the events counted before: "answer sent" ones may have been added since.
    expect(Number(/orchestrator_retention_deleted_total\{what="events"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(history);
  });
});
