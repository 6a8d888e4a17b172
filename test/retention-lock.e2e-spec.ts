import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { CountingAgent } from './support/counting-agent.js';
import { waitFor } from './support/orchestrator-process.js';
import { useTestStack } from './support/test-stack.js';
import { testEnv } from './support/test-env.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'delivery');
/** A workflow's lock, as transitions take it: the first 64 bits of its root's id. */
const LOCK_OF = (id: string): string => `('x' || left(replace('${id}', '-', ''), 16))::bit(64)::bigint`;

/**
 * Retention deletes finished workflows under the lock every transition of a workflow takes: one
 * that a transition holds (a retry making it run again, say) is left for a later pass, so that
 * no transition ever writes rows of a workflow being deleted (rows no transition could lock again).
 */
describe('retention and the workflow lock', () => {
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    // Finished for more than about 3.5 s: past retention, looked for every pass.
    env: { RETENTION_DAYS: '0.00004', RETENTION_INTERVAL_MS: '100' },
  });

  it('leaves a workflow whose lock a transition holds, and deletes it once the lock is free', async () => {
    const agent = await CountingAgent.start({ name: 'e2e_once_agent' });
    stack.onStop(() => agent.stop());
    const held = await stack.submit({ task_id: 'held', task_type: 'e2e_once' });
    expect(held).toMatchObject({ status: 'COMPLETED' });
    const [root] = await stack.db.query<{ id: string }>(`SELECT id FROM tasks WHERE task_id = 'held' AND parent_id IS NULL`);
    const transition = new pg.Client({ connectionString: testEnv().databaseUrl });
    await transition.connect();
    try {
      // What a transition of that workflow holds while it runs.
      await transition.query('BEGIN');
      await transition.query(`SELECT pg_advisory_xact_lock(${LOCK_OF(root?.id ?? '')})`);
      expect(await stack.submit({ task_id: 'free', task_type: 'e2e_once' })).toMatchObject({ status: 'COMPLETED' });
      await waitFor('the other workflow to be deleted', async () => ((await stack.db.query(`SELECT 1 FROM tasks WHERE task_id = 'free'`)).length === 0 ? true : undefined), 30_000, 100);
      // Several passes more.
      await sleep(1_000);
      expect(await stack.db.query(`SELECT task_id FROM tasks WHERE root_id = $1 AND parent_id IS NULL`, [root?.id])).toEqual([{ task_id: 'held' }]);
      await transition.query('COMMIT');
    } finally {
      await transition.end();
    }
    await waitFor('the workflow to be deleted once free', async () => ((await stack.db.query(`SELECT 1 FROM tasks WHERE root_id = $1`, [root?.id])).length === 0 ? true : undefined), 30_000, 100);
    expect(await stack.db.query(`SELECT 1 FROM task_events WHERE root_id = $1`, [root?.id])).toEqual([]);
  });
});
