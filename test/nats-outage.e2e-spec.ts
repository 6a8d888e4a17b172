import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CountingAgent } from './support/counting-agent.js';
import { NatsProxy } from './support/nats-proxy.js';
import { waitFor } from './support/orchestrator-process.js';
import { useTestStack } from './support/test-stack.js';
import { testEnv } from './support/test-env.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'delivery');
const WORKFLOWS = 10;

/**
 * While NATS cannot be reached (a partition: connection attempts hang until they time out), what
 * waits for it (final responses waiting for NATS before they are marked sent) must not hold the
 * transition queue: HTTP submit and cancel, and every transition, go on; once NATS is back, what
 * was lost on the way is published again and marked.
 */
describe('a NATS outage', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, replicas: 0 });

  it('does not stall HTTP submit and cancel, nor the transitions behind them', async () => {
    const agent = await CountingAgent.start({ name: 'e2e_once_agent', delayMs: 60_000 });
    stack.onStop(() => agent.stop());
    const proxy = await NatsProxy.start(testEnv().natsUrl);
    stack.onStop(() => proxy.close());
    const app = await stack.startOrchestrator({ NATS_URL: proxy.url });
    const post = async (path: string, body?: unknown): Promise<number> => {
      const res = await fetch(`${app.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(15_000) });
      return res.status;
    };

    proxy.partition();
    try {
      await waitFor('the orchestrator to see NATS gone', async () => ((await fetch(`${app.baseUrl}/health/ready`)).status === 503 ? true : undefined), 15_000);
      // Each cancel finishes a workflow whose final response waits for NATS: more of them than the queue runs batches at once.
      const took: number[] = [];
      for (let i = 0; i < WORKFLOWS; i++) {
        const started = Date.now();
        expect(await post('/tasks', { task_id: `outage-${i}`, task_type: 'e2e_once', payload: { n: i } })).toBe(202);
        expect(await post(`/tasks/outage-${i}/cancel`)).toBe(200);
        took.push(Date.now() - started);
      }
      console.log(`while NATS could not be reached: submit and cancel answered in ${took.join(', ')} ms`);
      const [row] = await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE parent_id IS NULL AND task_id LIKE 'outage-%' AND status = 'CANCELLED'`);
      expect(row?.n).toBe(WORKFLOWS);
    } finally {
      proxy.restore();
    }
    await waitFor('every final response to be sent and marked once NATS is back', async () => {
      const [row] = await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE parent_id IS NULL AND task_id LIKE 'outage-%' AND response_sent_at IS NOT NULL`);
      return row?.n === WORKFLOWS ? true : undefined;
    }, 90_000, 250);
    await waitFor('every sub-task to be marked published', async () => ((await stack.db.query(`SELECT 1 FROM unsent_dispatches`)).length === 0 ? true : undefined), 30_000, 250);
  });
});
