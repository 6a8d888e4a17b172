import { describe, expect, it } from 'vitest';
import { useEngineHarness } from './support/engine-harness.js';
import { insertWorkflow, seconds } from './support/rows.js';

const ONE_STEP = { steps: [{ id: 'x', agent: 'alpha', task_type: 'w' }] };

/** SweeperService on a real PostgreSQL: what a pass finds due, sends again, clears and deletes. */
describe('the sweeper', () => {
  describe('due work and final responses', () => {
    const harness = useEngineHarness({ workflows: { one: ONE_STEP } });

    it('sends a final response committed but never marked sent, once it is a few seconds old, and marks it', async () => {
      const h = harness();
      h.advance(0);
      await h.submit({ task_id: 'unsent-1', task_type: 'one', requester_id: 'asker' }, { replyTo: 'reply.unsent-1' });
      await h.answer(h.last('x'), { done: true });
      await h.eventually('the response to be marked', async () => ((await h.root('unsent-1')).response_sent_at ? true : undefined));
      // As if the replica had died between its commit and marking the response sent.
      await h.query(`UPDATE tasks SET response_sent_at = NULL WHERE task_id = 'unsent-1'`);
      h.published.clear();
      h.advance(4_000);
      await h.sweep();
      expect(h.published.on('reply.unsent-1')).toEqual([]);
      h.advance(1_001);
      await h.sweep();
      expect(h.published.on('reply.unsent-1').map((m) => m.body)).toEqual([expect.objectContaining({ task_id: 'unsent-1', status: 'COMPLETED', result: { output: null, steps: { x: { done: true } } } })]);
      expect(h.published.on('agent.asker.response')).toHaveLength(1);
      expect(h.published.on('platform.events.task_completed')).toHaveLength(1);
      expect((await h.root('unsent-1')).response_sent_at).not.toBeNull();
      h.advance(10_000);
      await h.sweep();
      expect(h.published.on('reply.unsent-1')).toHaveLength(1);
      expect((await h.history('unsent-1')).filter((e) => e.kind === 'answer_sent')).toHaveLength(2);
    });

    it('sends nothing again while NATS is disconnected', async () => {
      const h = harness();
      h.advance(0);
      await h.submit({ task_id: 'unsent-2', task_type: 'one' }, { replyTo: 'reply.unsent-2' });
      await h.answer(h.last('x'), { done: true });
      await h.eventually('the response to be marked', async () => ((await h.root('unsent-2')).response_sent_at ? true : undefined));
      await h.query(`UPDATE tasks SET response_sent_at = NULL WHERE task_id = 'unsent-2'`);
      h.published.clear();
      h.published.connected = false;
      try {
        h.advance(6_000);
        await h.sweep();
        expect(h.published.messages).toEqual([]);
      } finally {
        h.published.connected = true;
      }
    });

    it('clears the due times a finished workflow left behind', async () => {
      const h = harness();
      await h.submit({ task_id: 'left-1', task_type: 'one' });
      await h.engine.cancel('left-1');
      const root = await h.root('left-1');
      await h.query(`UPDATE tasks SET status = 'PENDING', next_attempt_at = $2 WHERE root_id = $1 AND parent_id IS NOT NULL`, [root.id, seconds(-1)]);
      await h.sweep();
      const [row] = (await h.rows('left-1')).values();
      expect(row).toMatchObject({ status: 'CANCELLED', next_attempt_at: null, deadline_at: null });
      expect(h.sentFor('x')).toHaveLength(1);
    });

    it('says a pass found nothing more to do when it took less than a full batch', async () => {
      const h = harness();
      h.advance(0);
      await h.submit({ task_id: 'little-1', task_type: 'one' });
      await h.query(`UPDATE tasks SET deadline_at = $1 WHERE task_id = 'little-1'`, [seconds(-1)]);
      expect(await h.sweep()).toBe(false);
      expect((await h.root('little-1')).status).toBe('FAILED');
    });
  });

  describe('retention', () => {
    const harness = useEngineHarness({ workflows: { one: ONE_STEP }, env: { RETENTION_DAYS: '1', RETENTION_BATCH: '2', RETENTION_INTERVAL_MS: '600000' } });

    it('deletes workflows finished before RETENTION_DAYS, a batch a pass while a backlog lasts, then waits its interval', async () => {
      const h = harness();
      for (let i = 0; i < 5; i++) await insertWorkflow(h.db, { task_id: `old-${i}`, status: 'COMPLETED', completed_at: seconds(-2 * 86_400 + i) }, [{ step_key: 'x', status: 'COMPLETED' }]);
      await insertWorkflow(h.db, { task_id: 'young', status: 'COMPLETED', completed_at: seconds(-86_000) }, []);
      const roots = async (): Promise<string[]> => (await h.query<{ task_id: string }>(`SELECT task_id FROM tasks WHERE parent_id IS NULL ORDER BY task_id`)).map((r) => r.task_id);
      await h.sweep();
      expect(await roots()).toEqual(['old-2', 'old-3', 'old-4', 'young']);
      await h.sweep();
      expect(await roots()).toEqual(['old-4', 'young']);
      await h.sweep();
      expect(await roots()).toEqual(['young']);
      // The backlog is gone: the next batch waits for RETENTION_INTERVAL_MS.
      await insertWorkflow(h.db, { task_id: 'old-late', status: 'FAILED', completed_at: seconds(-3 * 86_400) }, []);
      await h.sweep();
      expect(await roots()).toEqual(['old-late', 'young']);
      const metrics = await h.metrics.registry.getSingleMetricAsString('orchestrator_retention_deleted_total');
      expect(metrics).toMatch(/what="workflows"} 5\b/);
      expect(metrics).toMatch(/what="rows"} 10\b/);
    });
  });
});
