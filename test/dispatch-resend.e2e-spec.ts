import { join } from 'node:path';
import { ORCHESTRATOR_WORKFLOW_SUBJECT } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { CountingAgent } from './support/counting-agent.js';
import { NatsProxy } from './support/nats-proxy.js';
import { waitFor, waitForAgents, type AppProcess } from './support/orchestrator-process.js';
import { useTestStack, type TestStack } from './support/test-stack.js';
import { testEnv } from './support/test-env.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'delivery');

interface Step {
  id: string;
  status: string;
  attempts: number;
  waiting_on: string | null;
}

async function stepOf(stack: TestStack, taskId: string): Promise<Step | undefined> {
  const [step] = await stack.db.query<Step>(
    `SELECT s.id, s.status, s.attempts, s.waiting_on FROM tasks AS s JOIN tasks AS r ON r.id = s.root_id
      WHERE r.task_id = $1 AND r.parent_id IS NULL AND s.parent_id = r.id`,
    [taskId],
  );
  return step;
}

async function rootStatus(stack: TestStack, taskId: string): Promise<string | undefined> {
  const [root] = await stack.db.query<{ status: string }>(`SELECT status FROM tasks WHERE task_id = $1 AND parent_id IS NULL`, [taskId]);
  return root?.status;
}

async function submit(app: AppProcess, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${app.baseUrl}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(202);
}

/**
 * Every way a sub-task is published is committed, published, then marked sent: a step that waited
 * in line for a busy agent and was popped into a slot (a claim) is no exception, and what is
 * published again is the same message, headers included.
 */
describe('a step popped from its line, published again by another replica', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, replicas: 0 });

  it('reaches its agent, same id, once the replica that popped it died between its commit and its publish', async () => {
    // One at a time, slowly: the second workflow's step waits in line until the first is answered.
    const agent = await CountingAgent.start({ name: 'e2e_once_agent', capacity: 1, delayMs: 3_000 });
    stack.onStop(() => agent.stop());
    const proxy = await NatsProxy.start(testEnv().natsUrl);
    stack.onStop(() => proxy.close());
    let published = 0;
    // The first sub-task goes out; the second (the one the freed slot pops from the line) never leaves the replica.
    const stalled = proxy.rule({ match: (subject) => subject === 'agent.e2e_once_agent.task' && ++published === 2, action: 'stall' });
    // The doomed replica alone while the step waits and is popped: a second replica's sweeper could
    // pop it first (and publish it past the proxy). The doomed one never resends in this test's time,
    // and takes requests itself (core intake): JetStream's pull consumers do not keep their heartbeats through the proxy.
    const doomed = await stack.startOrchestrator({ NATS_URL: proxy.url, DISPATCH_RESEND_AFTER_MS: '600000', DURABLE_INTAKE: 'off' });
    // Until its capacity is heard, an agent has no slots to count: the first step would take none.
    await waitForAgents(doomed.baseUrl, 1);

    await submit(doomed, { task_id: 'claim-first', task_type: 'e2e_once', payload: { n: 1 } });
    await agent.waitForCount(1);
    await submit(doomed, { task_id: 'claim-second', task_type: 'e2e_once', payload: { n: 2 } });
    const waiting = await waitFor('the second step to wait in line', async () => {
      const step = await stepOf(stack, 'claim-second');
      return step?.status === 'PENDING' && step.waiting_on !== null ? step : undefined;
    });
    await waitFor('the popped step’s publish to be swallowed', () => (stalled.hits === 1 ? true : undefined), 30_000);
    const claimed = await stepOf(stack, 'claim-second');
    expect(claimed).toMatchObject({ id: waiting.id, status: 'RUNNING', attempts: 1 });
    expect(await stack.db.query(`SELECT attempt FROM unsent_dispatches WHERE row_id = $1`, [waiting.id])).toEqual([{ attempt: 1 }]);
    await stack.startOrchestrator();
    await doomed.kill();

    const [, again] = await agent.waitForCount(2, 30_000);
    expect(again?.taskId).toBe(`${waiting.id}:1`);
    expect(again?.payload).toEqual({ n: 2 });
    await waitFor('the second workflow to complete', async () => ((await rootStatus(stack, 'claim-second')) === 'COMPLETED' ? true : undefined), 30_000);
    expect(await stepOf(stack, 'claim-second')).toMatchObject({ status: 'COMPLETED', attempts: 1 });
    expect(agent.maxInFlight).toBe(1);
    await waitFor('every sub-task to be marked published', async () => ((await stack.db.query(`SELECT 1 FROM unsent_dispatches`)).length === 0 ? true : undefined), 30_000, 250);
  });

});

describe('a workflow: step published again by another replica', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, replicas: 0 });

  it('starts its child workflow with the parent’s fairness key and budget, as the first publish would have', async () => {
    const proxy = await NatsProxy.start(testEnv().natsUrl);
    stack.onStop(() => proxy.close());
    const stalled = proxy.rule({ match: (subject) => subject === ORCHESTRATOR_WORKFLOW_SUBJECT, action: 'stall' });
    const doomed = await stack.startOrchestrator({ NATS_URL: proxy.url });
    await stack.startOrchestrator();

    await submit(doomed, { task_id: 'resent-parent', task_type: 'e2e_parent', payload: { run: false }, requester_id: 'tenant-a', budget: { max_tokens: 1_000 } });
    await waitFor('the child workflow’s start to be swallowed', () => (stalled.hits === 1 ? true : undefined));
    const step = await stepOf(stack, 'resent-parent');
    expect(step).toMatchObject({ status: 'RUNNING', attempts: 1 });
    await doomed.kill();

    await waitFor('the parent to complete', async () => ((await rootStatus(stack, 'resent-parent')) === 'COMPLETED' ? true : undefined), 30_000);
    const [child] = await stack.db.query<{ requester_id: string; fairness_key: string | null; budget: unknown; depth: number }>(
      `SELECT requester_id, fairness_key, budget, depth FROM tasks WHERE task_id = $1 AND parent_id IS NULL`,
      [`${step?.id ?? '?'}:1`],
    );
    expect(child).toEqual({ requester_id: 'orchestrator_agent', fairness_key: 'tenant-a', budget: { max_tokens: 1_000 }, depth: 2 });
  });
});
