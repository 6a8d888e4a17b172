import { join } from 'node:path';
import { agentResponseSubject } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { CountingAgent } from './support/counting-agent.js';
import { waitFor } from './support/orchestrator-process.js';
import { PgProxy } from './support/pg-proxy.js';
import { useTestStack } from './support/test-stack.js';
import { testEnv } from './support/test-env.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'delivery');
const REQUESTER = 'e2e_marks_requester';

/**
 * The mark that a final response was sent belongs to the run that sent it: a mark that comes late
 * (held back on its way to the database while the sweeper sent the response again and the
 * workflow was retried) must not mark the next run's response, which is not sent yet.
 */
describe('marking a final response sent', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, replicas: 0 });

  it('never marks the next run’s: a late mark is bound to the run it was for', async () => {
    let opened: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (opened = resolve));
    let runs = 0;
    const agent = await CountingAgent.start({
      name: 'e2e_once_agent',
      answer: async () => {
        runs += 1;
        if (runs === 1) throw new Error('the first run fails');
        await gate;
        return { ok: true };
      },
    });
    stack.onStop(() => agent.stop());
    const proxy = await PgProxy.start(testEnv().databaseUrl);
    stack.onStop(() => proxy.close());
    const lateMark = proxy.rule({ match: (sql) => sql.includes('response_sent_at = now()'), action: 'hold', times: 1 });
    const app = await stack.startOrchestrator({ DATABASE_URL: proxy.url });
    const responses = stack.nats.collect(agentResponseSubject(REQUESTER));
    const root = async (): Promise<{ status: string; sent: boolean }> => {
      const [found] = await stack.db.query<{ status: string; sent: boolean }>(
        `SELECT status, response_sent_at IS NOT NULL AS sent FROM tasks WHERE task_id = 'late-mark' AND parent_id IS NULL`,
      );
      return found ?? { status: 'missing', sent: false };
    };

    const post = (path: string, body?: unknown): Promise<Response> =>
      fetch(`${app.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    expect((await post('/tasks', { task_id: 'late-mark', task_type: 'e2e_once', requester_id: REQUESTER })).status).toBe(202);
    const [first] = await responses.waitForCount(1);
    expect(first).toMatchObject({ status: 'FAILED' });
    // Its mark is held on the way; the sweeper finds the response unsent after its grace, sends it again and marks it.
    await waitFor('the first mark to be held', () => (lateMark.hits === 1 ? true : undefined));
    await waitFor('the sweeper to send the response again and mark it', async () => ((await root()).sent ? true : undefined), 30_000, 200);

    expect((await post('/tasks/late-mark/retry')).status).toBe(200);
    await agent.waitForCount(2);
    expect(await root()).toEqual({ status: 'RUNNING', sent: false });
    lateMark.release();
    await lateMark.answered;
    expect(await root()).toEqual({ status: 'RUNNING', sent: false });

    opened();
    await waitFor('the second run to finish and its response to be marked sent', async () => {
      const found = await root();
      return found.status === 'COMPLETED' && found.sent ? true : undefined;
    });
    const all = await responses.waitForCount(3);
    expect(all.map((response) => response['status'])).toEqual(['FAILED', 'FAILED', 'COMPLETED']);
    responses.stop();
  });
});
