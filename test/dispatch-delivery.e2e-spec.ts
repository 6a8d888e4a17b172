import { join } from 'node:path';
import { ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { CountingAgent } from './support/counting-agent.js';
import { infra } from './support/infra.js';
import { NatsProxy } from './support/nats-proxy.js';
import { waitFor } from './support/orchestrator-process.js';
import { PgProxy } from './support/pg-proxy.js';
import { useTestStack, type TestStack } from './support/test-stack.js';
import { testEnv } from './support/test-env.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'delivery');

/** The close script of a transition: its writes and its COMMIT, in one query. */
const isTransitionCommit = (sql: string): boolean => sql.includes('EXECUTE update_rows') && /COMMIT\s*$/.test(sql);

interface StepRow {
  id: string;
  root_task_id: string;
  step_key: string;
  status: string;
  attempts: number;
  error: string | null;
}

async function steps(stack: TestStack, prefix: string): Promise<StepRow[]> {
  return stack.db.query<StepRow>(
    `SELECT s.id, r.task_id AS root_task_id, s.step_key, s.status, s.attempts, s.error
       FROM tasks AS s JOIN tasks AS r ON r.id = s.root_id
      WHERE r.parent_id IS NULL AND s.parent_id IS NOT NULL AND r.task_id LIKE $1 ORDER BY r.task_id, s.step_key`,
    [`${prefix}%`],
  );
}

async function rootStatuses(stack: TestStack, prefix: string): Promise<Record<string, number>> {
  const rows = await stack.db.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM tasks WHERE parent_id IS NULL AND task_id LIKE $1 GROUP BY status`,
    [`${prefix}%`],
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

async function allCompleted(stack: TestStack, prefix: string, count: number, timeoutMs: number): Promise<void> {
  await waitFor(`${count} workflows ${prefix}* to finish`, async () => ((await rootStatuses(stack, prefix))['COMPLETED'] === count ? true : undefined), timeoutMs, 250);
}

/** Every step answered once and dispatched once, by the history. */
async function historyCounts(stack: TestStack, prefix: string): Promise<{ dispatched: number[]; answered: number[] }> {
  const rows = await stack.db.query<{ kind: string; n: number }>(
    `SELECT e.kind, count(*)::int AS n FROM task_events AS e JOIN tasks AS r ON r.id = e.root_id
      WHERE r.task_id LIKE $1 AND e.kind IN ('dispatched', 'answered') GROUP BY e.root_id, e.step_id, e.kind`,
    [`${prefix}%`],
  );
  return {
    dispatched: [...new Set(rows.filter((row) => row.kind === 'dispatched').map((row) => row.n))],
    answered: [...new Set(rows.filter((row) => row.kind === 'answered').map((row) => row.n))],
  };
}

describe('a sub-task committed but not published when its replica dies', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, replicas: 0 });

  it('is published by another replica about DISPATCH_RESEND_AFTER_MS after its commit, far before its deadline; its one attempt completes', async () => {
    const agent = await CountingAgent.start({ name: 'e2e_once_agent' });
    stack.onStop(() => agent.stop());
    const proxy = await NatsProxy.start(testEnv().natsUrl);
    stack.onStop(() => proxy.close());
    // The replica's publish of the sub-task never leaves it, nor anything after: as if it died right after its commit.
    const stalled = proxy.rule({ match: (subject) => subject === 'agent.e2e_once_agent.task', action: 'stall' });
    const doomed = await stack.startOrchestrator({ NATS_URL: proxy.url });
    await stack.startOrchestrator();

    const submitted = await fetch(`${doomed.baseUrl}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task_id: 'killed-before-publish', task_type: 'e2e_once', payload: { n: 7 } }),
    });
    expect(submitted.status).toBe(202);
    const [step] = await waitFor('the step to be committed as sent', async () => {
      const found = await steps(stack, 'killed-before-publish');
      return found[0]?.status === 'RUNNING' ? found : undefined;
    });
    const committedAt = Date.now();
    await waitFor('its publish to be swallowed', () => (stalled.hits === 1 ? true : undefined));
    const unsent = await stack.db.query<{ attempt: number }>(`SELECT attempt FROM unsent_dispatches WHERE row_id = $1`, [step?.id]);
    expect(unsent).toEqual([{ attempt: 1 }]);
    await doomed.kill();

    const [received] = await agent.waitForCount(1, 30_000);
    const afterCommitMs = (received?.at ?? Infinity) - committedAt;
    console.log(`the killed replica's sub-task reached its agent ${afterCommitMs} ms after its commit (DISPATCH_RESEND_AFTER_MS 1000, step deadline 60000)`);
    expect(received?.taskId).toBe(`${step?.id}:1`);
    expect(received?.payload).toEqual({ n: 7 });
    // About the bound plus a sweep, on a loaded machine: far from the step's 60 s deadline.
    expect(afterCommitMs).toBeLessThan(15_000);
    await allCompleted(stack, 'killed-before-publish', 1, 30_000);
    expect((await steps(stack, 'killed-before-publish')).map((row) => [row.status, row.attempts])).toEqual([['COMPLETED', 1]]);
    expect(await stack.db.query(`SELECT * FROM unsent_dispatches`)).toEqual([]);
  });
});

describe('a connection cut at COMMIT', () => {
  const WORKFLOWS = 40;
  const CAPACITY = 2;
  const stack = useTestStack({ workflowsDir: FIXTURES, replicas: 0 });

  it('loses nothing, applies nothing twice and keeps the agents’ slots exact, whether the commit ran or not', async () => {
    const first = await CountingAgent.start({ name: 'e2e_first', capacity: CAPACITY, delayMs: 30, answer: (p) => ({ text: String(p['text']).toUpperCase() }) });
    const second = await CountingAgent.start({ name: 'e2e_second', capacity: CAPACITY, delayMs: 30, answer: (p) => ({ text: `[${String(p['text'])}]` }) });
    stack.onStop(() => Promise.all([first.stop(), second.stop()]));
    const proxy = await PgProxy.start(testEnv().databaseUrl);
    stack.onStop(() => proxy.close());
    let commits = 0;
    // Every fifth commit of a transition: forwarded, then the connection dropped (it ran, unanswered); every seventh: dropped before it goes.
    const after = proxy.rule({ match: (sql) => isTransitionCommit(sql) && ++commits % 5 === 0, action: 'cut-after', times: 6 });
    const before = proxy.rule({ match: (sql) => isTransitionCommit(sql) && commits % 7 === 0, action: 'cut-before', times: 4 });
    const app = await stack.startOrchestrator({ DATABASE_URL: proxy.url });
    await waitFor('the agents to be registered', async () => {
      const body = (await (await fetch(`${app.baseUrl}/agents`)).json()) as { items: unknown[] };
      return body.items.length === 2 ? true : undefined;
    });

    for (let i = 0; i < WORKFLOWS; i++) stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id: `cut-${i}`, task_type: 'e2e_chain_once', payload: { text: `t${i}` } });
    await stack.nats.flush();
    await allCompleted(stack, 'cut-', WORKFLOWS, 90_000);
    console.log(`commits cut: ${after.hits} after forwarding, ${before.hits} before; agents held at most ${first.maxInFlight} and ${second.maxInFlight} at once (capacity ${CAPACITY})`);
    expect(after.hits).toBeGreaterThanOrEqual(3);
    expect(before.hits).toBeGreaterThanOrEqual(1);

    const rows = await steps(stack, 'cut-');
    expect(rows).toHaveLength(WORKFLOWS * 2);
    expect(rows.filter((row) => row.status !== 'COMPLETED' || row.attempts !== 1)).toEqual([]);
    expect(await historyCounts(stack, 'cut-')).toEqual({ dispatched: [1], answered: [1] });
    const results = await stack.db.query<{ task_id: string; result: { output: { text: string } } }>(`SELECT task_id, result FROM tasks WHERE parent_id IS NULL AND task_id LIKE 'cut-%'`);
    for (const { task_id, result } of results) expect(result.output.text).toBe(`[T${task_id.slice(4)}]`);
    // Slots: never more in flight than announced (a slot given back for an attempt that committed would allow it), none left held.
    expect(first.maxInFlight).toBeLessThanOrEqual(CAPACITY);
    expect(second.maxInFlight).toBeLessThanOrEqual(CAPACITY);
    const redis = new Redis(testEnv().redisUrl);
    try {
      await waitFor('every slot to be freed', async () => {
        const held = await Promise.all(['e2e_first', 'e2e_second'].map((name) => redis.zcard(`orchestrator:agents:in-flight:${name}`)));
        return held.every((n) => n === 0) ? true : undefined;
      }, 10_000);
    } finally {
      redis.disconnect();
    }
  });
});

describe('PostgreSQL restarted under load', () => {
  const WORKFLOWS = 100;
  const stack = useTestStack({ workflowsDir: FIXTURES, replicas: 2 });

  it('completes every one-attempt workflow: none failed, no answer rejected', async () => {
    // Busy agents (five at a time, 100 ms each): the work lasts seconds, and the restart falls in the middle of it.
    const agent = (name: string, text: (p: Record<string, unknown>) => string): Promise<CountingAgent> =>
      CountingAgent.start({ name, capacity: 5, delayMs: 100, answer: (p) => ({ text: text(p) }) });
    const first = await agent('e2e_first', (p) => String(p['text']).toUpperCase());
    const second = await agent('e2e_second', (p) => `[${String(p['text'])}]`);
    stack.onStop(() => Promise.all([first.stop(), second.stop()]));
    await stack.waitForAgents(2);

    for (let i = 0; i < WORKFLOWS; i++) stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id: `restart-${i}`, task_type: 'e2e_chain_once', payload: { text: `t${i}` } });
    await stack.nats.flush();
    await waitFor('some workflows to complete', async () => (((await rootStatuses(stack, 'restart-'))['COMPLETED'] ?? 0) >= 10 ? true : undefined));
    const before = (await rootStatuses(stack, 'restart-'))['COMPLETED'] ?? 0;
    await stack.db.close();
    await infra('stop', 'postgres');
    await infra('start', 'postgres');
    await stack.reconnectDatabase();
    await allCompleted(stack, 'restart-', WORKFLOWS, 120_000);
    console.log(`PostgreSQL restarted with ${before} of ${WORKFLOWS} workflows completed; all ${WORKFLOWS} completed after; ${first.received.length + second.received.length} sub-task messages for ${WORKFLOWS * 2} steps`);
    expect(before).toBeLessThan(WORKFLOWS / 2);

    expect(await rootStatuses(stack, 'restart-')).toEqual({ COMPLETED: WORKFLOWS });
    const rows = await steps(stack, 'restart-');
    expect(rows.filter((row) => row.status !== 'COMPLETED' || row.attempts !== 1 || row.error !== null)).toEqual([]);
    const logs = await Promise.all(
      stack.orchestrators.map(async (replica) => {
        await replica.stop();
        return replica.output();
      }),
    );
    expect(logs.join('\n')).not.toContain('answer rejected');
  });
});
