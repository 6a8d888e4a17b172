import { join } from 'node:path';
import { agentResponseSubject } from '@orchestrator/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountingAgent } from './support/counting-agent.js';
import { waitFor } from './support/orchestrator-process.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'delivery');
const REQUESTER = 'e2e_retry_requester';

/** Retries that finish in the transaction that starts them, and retries of a `for_each` step. */
describe('retrying a workflow', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES });
  /** Items of e2e_each_retry the agent fails, once each. */
  const failOnce = new Set<unknown>();
  let agent: CountingAgent;

  beforeAll(async () => {
    agent = await CountingAgent.start({
      name: 'e2e_edge_agent',
      delayMs: 300,
      answer: (payload) => {
        if (failOnce.delete(payload['value'])) throw new Error(`item ${String(payload['value'])} failed`);
        return { echo: payload };
      },
    });
  });

  afterAll(() => agent.stop());

  async function retry(taskId: string): Promise<number> {
    return (await fetch(`${stack.orchestrator.baseUrl}/tasks/${encodeURIComponent(taskId)}/retry`, { method: 'POST' })).status;
  }

  async function root(taskId: string): Promise<{ status: string; result: Record<string, unknown> | null; error: string | null; sent: boolean }> {
    const [found] = await stack.db.query<{ status: string; result: Record<string, unknown> | null; error: string | null; sent: boolean }>(
      `SELECT status, result, error, response_sent_at IS NOT NULL AS sent FROM tasks WHERE task_id = $1 AND parent_id IS NULL`,
      [taskId],
    );
    if (!found) throw new Error(`no task ${taskId}`);
    return found;
  }

  it('keeps the result of a retry that fails again in the same transaction (its output), and sends it', async () => {
    const responses = stack.nats.collect(agentResponseSubject(REQUESTER));
    const first = await stack.submit({ task_id: 'output-broken', task_type: 'e2e_output_broken', requester_id: REQUESTER }, 60_000);
    expect(first).toMatchObject({ status: 'FAILED', error: expect.stringContaining('output:') as unknown });
    const steps = { only: { echo: { n: 1 } } };
    expect(first['result']).toEqual({ steps });
    await waitFor('the final response to be marked sent', async () => ((await root('output-broken')).sent ? true : undefined));

    expect(await retry('output-broken')).toBe(200);
    // Nothing to send: the retry runs the output again at once and fails in its own transaction.
    const [, second] = await responses.waitForCount(2, 30_000);
    expect(second).toMatchObject({ task_id: 'output-broken', status: 'FAILED', result: { steps } });
    const stored = await root('output-broken');
    expect(stored.status).toBe('FAILED');
    // What a resend of the final response would read: the same result, not NULL.
    expect(stored.result).toEqual({ steps });
    responses.stop();
  });

  it('runs a retried for_each step no more than `concurrency` items at a time', async () => {
    const items = [0, 1, 2, 3, 4, 5, 6, 7];
    failOnce.add(1);
    const failed = await stack.submit({ task_id: 'each-retry', task_type: 'e2e_each_retry', payload: { items } }, 60_000);
    expect(failed).toMatchObject({ status: 'FAILED', error: expect.stringContaining('item 1 failed') as unknown });
    expect(agent.maxInFlight).toBe(2);
    await waitFor('the final response to be marked sent', async () => ((await root('each-retry')).sent ? true : undefined));

    // The first run's other item, cancelled, may still be in the agent's hands.
    await waitFor('the agent to be idle', () => (agent.inFlight === 0 ? true : undefined));
    agent.maxInFlight = 0;
    const before = agent.received.length;
    expect(await retry('each-retry')).toBe(200);
    await waitFor('the retried workflow to complete', async () => ((await root('each-retry')).status === 'COMPLETED' ? true : undefined), 60_000, 200);
    const values = agent.received.slice(before).map((one) => one.payload['value']);
    console.log(`the retry sent items ${values.join(', ')}, at most ${agent.maxInFlight} at once`);
    // The items that had not completed, each once, two at a time as the step says.
    expect(agent.maxInFlight).toBeLessThanOrEqual(2);
    expect(new Set(values).size).toBe(values.length);
    const stored = await root('each-retry');
    expect((stored.result?.['steps'] as { each: { items: { echo: { value: number } }[] } }).each.items.map((item) => item.echo.value)).toEqual(items);
  });
});
