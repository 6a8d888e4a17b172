import { join } from 'node:path';
import { ORCHESTRATOR_WORKFLOW_SUBJECT } from '@orchestrator/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { CountingAgent } from './support/counting-agent.js';
import { NatsProxy, type NatsProxyRuleHandle } from './support/nats-proxy.js';
import { waitFor, type AppProcess } from './support/orchestrator-process.js';
import { useTestStack } from './support/test-stack.js';
import { testEnv } from './support/test-env.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'delivery');

interface Root {
  task_id: string;
  status: string;
  result: Record<string, unknown> | null;
  sent: boolean;
}

/**
 * A `workflow:` step's child is started by a message to the orchestrators; a cancel of that step
 * (its parent cancelled, or timed out) may come before the child's root exists. It is remembered,
 * and the child starts cancelled.
 */
describe('a cancel that comes before its child workflow exists', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, replicas: 0 });
  let agent: CountingAgent;
  let app: AppProcess;
  let proxy: NatsProxy;

  beforeAll(async () => {
    agent = await CountingAgent.start({ name: 'e2e_edge_agent' });
    stack.onStop(() => agent.stop());
    proxy = await NatsProxy.start(testEnv().natsUrl);
    stack.onStop(() => proxy.close());
    app = await stack.startOrchestrator({ NATS_URL: proxy.url });
  });

  async function root(taskId: string): Promise<Root | undefined> {
    const [found] = await stack.db.query<Root>(
      `SELECT task_id, status, result, response_sent_at IS NOT NULL AS sent FROM tasks WHERE task_id = $1 AND parent_id IS NULL`,
      [taskId],
    );
    return found;
  }

  async function post(path: string, body?: unknown): Promise<number> {
    const init: RequestInit = body === undefined ? { method: 'POST' } : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    return (await fetch(`${app.baseUrl}${path}`, init)).status;
  }

  /** Starts a parent whose child's start is held back, cancels the parent, then lets the child's start go; returns the child's task_id. */
  async function cancelBeforeTheChild(parent: string, run: boolean): Promise<string> {
    const held: NatsProxyRuleHandle = proxy.rule({ match: (subject) => subject === ORCHESTRATOR_WORKFLOW_SUBJECT, action: 'hold', times: 1 });
    expect(await post('/tasks', { task_id: parent, task_type: 'e2e_parent', payload: { run } })).toBe(202);
    await waitFor('the child workflow’s start to be held back', () => (held.hits === 1 ? true : undefined));
    const [step] = await stack.db.query<{ id: string; attempts: number }>(
      `SELECT s.id, s.attempts FROM tasks AS s JOIN tasks AS r ON r.id = s.root_id WHERE r.task_id = $1 AND s.parent_id = r.id`,
      [parent],
    );
    const child = `${step?.id ?? '?'}:${step?.attempts ?? 0}`;
    expect(await post(`/tasks/${parent}/cancel`)).toBe(200);
    await waitFor('the child’s cancel to be remembered', async () => ((await stack.db.query(`SELECT 1 FROM early_cancels WHERE task_id = $1`, [child])).length === 1 ? true : undefined));
    expect(await root(child)).toBeUndefined();
    held.release();
    await waitFor('the child to start', async () => ((await root(child))?.status === 'CANCELLED' ? true : undefined), 30_000);
    return child;
  }

  it('starts the child cancelled, sends none of its steps, and forgets the cancel', async () => {
    const child = await cancelBeforeTheChild('parent-run', true);
    const [work] = await stack.db.query<{ status: string; attempts: number }>(
      `SELECT s.status, s.attempts FROM tasks AS s JOIN tasks AS r ON r.id = s.root_id WHERE r.task_id = $1 AND s.parent_id IS NOT NULL`,
      [child],
    );
    expect(work).toEqual({ status: 'CANCELLED', attempts: 0 });
    expect(agent.received).toEqual([]);
    expect(await stack.db.query(`SELECT task_id FROM early_cancels`)).toEqual([]);
    expect((await root('parent-run'))?.status).toBe('CANCELLED');
  });

  it('is not retried by its own id: a child workflow runs again only through its parent', async () => {
    const child = await cancelBeforeTheChild('parent-skip', false);
    await waitFor('the child’s final response to be sent', async () => ((await root(child))?.sent ? true : undefined));
    // Control requests refuse the orchestrators' own ids (a retry that completes at once keeping its
    // result is shown on a workflow of its own in retry-edges).
    expect(await post(`/tasks/${encodeURIComponent(child)}/retry`)).toBe(400);
    expect((await root(child))?.status).toBe('CANCELLED');
    expect(agent.received).toEqual([]);
  });
});
