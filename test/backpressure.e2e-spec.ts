import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { BusyAgent } from './support/busy-agent.js';
import { waitFor } from './support/orchestrator-process.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'backpressure');

/** Submits `count` two-step workflows for `requester` at once; resolves with their final answers. */
function flood(stack: ReturnType<typeof useTestStack>, requester: string, count: number, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      stack.submit({ task_id: `${requester}-${i}`, task_type: 'e2e_busy_pair', requester_id: requester, payload: { n: i }, ...extra }, 240_000),
    ),
  );
}

/** Where in the agent's receipts each requester's sub-tasks came, by their task_id prefix. */
function positions(agent: BusyAgent, workflowIds: ReadonlySet<string>, rows: Map<string, string>): number[] {
  return agent.receipts.flatMap((receipt, i) => (workflowIds.has(rows.get(receipt.taskId.split(':')[0] ?? '') ?? '') ? [i] : []));
}

describe('waiting for a busy agent: work-conserving, fair, within capacity', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, replicas: 2, env: { QUEUE_RESTORE_INTERVAL_MS: '2000' } });
  const agents: BusyAgent[] = [];
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.stop()));
  });

  async function busy(options: Partial<ConstructorParameters<typeof BusyAgent>[0]> = {}): Promise<BusyAgent> {
    const agent = await new BusyAgent({ name: 'e2e_busy', capabilities: ['e2e_busy_work'], maxConcurrency: 4, delayMs: 20, ...options }).start();
    agents.push(agent);
    await waitFor('the busy agent to be listed with its capacity', async () => {
      const listed = await stack.get<{ items: { name: string; capacity: number | null }[] }>('/agents');
      return listed.items.some((a) => a.name === options.name || (a.name === 'e2e_busy' && a.capacity === (options.maxConcurrency ?? 4))) ? true : undefined;
    });
    return agent;
  }

  /** Row id of each sub-task's row to the task_id of its workflow. */
  async function workflowOfRows(): Promise<Map<string, string>> {
    const rows = await stack.db.query<{ id: string; task_id: string }>(`SELECT s.id::text AS id, r.task_id FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE s.parent_id IS NOT NULL`);
    return new Map(rows.map((row) => [row.id, row.task_id]));
  }

  it('serves a requester with 10 beside one with 400 in turn, never past the capacity, across two replicas', async () => {
    const agent = await busy();
    const big = flood(stack, 'fair_a', 400);
    await waitFor('the flood to fill the line', () => (agent.receipts.length >= 40 ? true : undefined), 60_000);
    const small = flood(stack, 'fair_b', 10);
    const [bigAnswers, smallAnswers] = await Promise.all([big, small]);
    expect(bigAnswers.filter((a) => a['status'] !== 'COMPLETED')).toEqual([]);
    expect(smallAnswers.filter((a) => a['status'] !== 'COMPLETED')).toEqual([]);
    // Each sub-task once: two per workflow, no more.
    expect(agent.receipts).toHaveLength(2 * 410);
    expect(new Set(agent.receipts.map((r) => r.taskId)).size).toBe(2 * 410);
    // The agent never held more than it announced, though two replicas dispatched to it.
    expect(agent.maxHeld).toBeLessThanOrEqual(4);
    expect(agent.maxHeld).toBe(4);
    // In a line served oldest first, the small requester's 20 sub-tasks would come after the ~2,000
    // of the big one queued before them; taking turns, they come right after they are asked for.
    const rows = await workflowOfRows();
    const smallIds = new Set(Array.from({ length: 10 }, (_, i) => `fair_b-${i}`));
    const at = positions(agent, smallIds, rows);
    const share = (Math.max(...at) + 1) / agent.receipts.length;
    console.log(`fairness: the small requester's last sub-task was receipt ${Math.max(...at) + 1} of ${agent.receipts.length} (${(share * 100).toFixed(1)}%)`);
    expect(at).toHaveLength(20);
    expect(share).toBeLessThan(0.25);
    // Nothing was lost from the lines: no step had to be put back.
    const metrics = await (await fetch(`${stack.orchestrator.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/orchestrator_queue_wait_seconds_count\{agent="e2e_busy"\} [1-9]/);
  });

  it('serves CRITICAL steps before earlier NORMAL ones waiting for the same agent', async () => {
    const agent = await busy({ maxConcurrency: 1, delayMs: 30 });
    const normal = flood(stack, 'prio_normal', 40);
    await waitFor('the line to fill', () => (agent.receipts.length >= 3 ? true : undefined), 60_000);
    const before = agent.receipts.length;
    const critical = await stack.submit({ task_id: 'prio-critical', task_type: 'e2e_busy_pair', requester_id: 'prio_normal', priority: 'CRITICAL', payload: { n: -1 } }, 120_000);
    expect(critical).toMatchObject({ status: 'COMPLETED' });
    await normal;
    const rows = await workflowOfRows();
    const at = positions(agent, new Set(['prio-critical']), rows);
    console.log(`priority: the CRITICAL workflow's sub-tasks were receipts ${at.map((i) => i + 1).join(' and ')}, asked for after receipt ${before}, of ${agent.receipts.length}`);
    // Each went at most two slots after it was asked for (the one running, one already popped), not behind ~75 NORMAL ones.
    expect(at).toHaveLength(2);
    expect(Math.max(...at)).toBeLessThan(before + 12);
  });

  it('starts a step waiting for a capability as soon as an agent offering it appears, before its timeout', async () => {
    const answer = stack.submit({ task_id: 'late-1', task_type: 'e2e_late_capability', payload: { n: 1 } }, 120_000);
    await waitFor('the step to wait in its line', async () => {
      const [row] = await stack.db.query<{ waiting_on: string | null }>(`SELECT s.waiting_on FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE r.task_id = 'late-1' AND s.parent_id IS NOT NULL`);
      return row?.waiting_on === 'c:e2e_offered_later' ? true : undefined;
    });
    // Waiting costs nothing: the row is not rewritten while nobody can take it.
    const [first] = await stack.db.query<{ updated_at: Date }>(`SELECT s.updated_at FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE r.task_id = 'late-1' AND s.parent_id IS NOT NULL`);
    await sleep(1_500);
    const [again] = await stack.db.query<{ updated_at: Date }>(`SELECT s.updated_at FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE r.task_id = 'late-1' AND s.parent_id IS NOT NULL`);
    expect(again?.updated_at.getTime()).toBe(first?.updated_at.getTime());
    const started = Date.now();
    const late = await new BusyAgent({ name: 'e2e_late', capabilities: ['e2e_offered_later'], maxConcurrency: 2, delayMs: 5 }).start();
    agents.push(late);
    expect(await answer).toMatchObject({ status: 'COMPLETED', result: { steps: { late: { by: 'e2e_late' } } } });
    console.log(`a step waiting for a capability was answered ${Date.now() - started} ms after an agent offering it appeared (timeout 60000 ms)`);
    expect(late.receipts).toHaveLength(1);
  });

  it('takes turns by the key a workflow file names rather than by requester', async () => {
    const agent = await busy({ maxConcurrency: 1, delayMs: 15 });
    const submit = (customer: string, i: number): Promise<Record<string, unknown>> =>
      stack.submit({ task_id: `cust-${customer}-${i}`, task_type: 'e2e_busy_customer', requester_id: 'one_gateway', payload: { customer } }, 120_000);
    const big = Promise.all(Array.from({ length: 120 }, (_, i) => submit('big', i)));
    await waitFor('the line to fill', () => (agent.receipts.length >= 3 ? true : undefined), 60_000);
    const small = await Promise.all(Array.from({ length: 5 }, (_, i) => submit('small', i)));
    expect(small.map((a) => a['status'])).toEqual(small.map(() => 'COMPLETED'));
    await big;
    const at = agent.receipts.flatMap((r, i) => (r.payload['customer'] === 'small' ? [i] : []));
    console.log(`fairness key: the small customer's 5 steps were receipts ${at.map((i) => i + 1).join(', ')} of ${agent.receipts.length}`);
    // The same requester sent both: only the file's key can have put the small customer's steps ahead.
    expect(Math.max(...at)).toBeLessThan(60);
  });

  it('never exceeds the capacity while a replica is SIGKILLed, and loses no work', async () => {
    const agent = await busy({ maxConcurrency: 3, delayMs: 20 });
    const answers = Promise.all(
      Array.from({ length: 200 }, (_, i) => stack.submit({ task_id: `kill-${i}`, task_type: 'e2e_busy_retrying', requester_id: 'killer', payload: { n: i } }, 240_000)),
    );
    // Every request committed first: one a replica had taken and not stored would die with it.
    await waitFor('the 200 workflows to be stored', async () => {
      const [{ n }] = await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE parent_id IS NULL AND task_id LIKE 'kill-%'`);
      return n === 200 ? true : undefined;
    }, 60_000);
    await stack.orchestrators[1]?.kill();
    const done = await answers;
    expect(done.filter((a) => a['status'] !== 'COMPLETED')).toEqual([]);
    expect(agent.maxHeld).toBeLessThanOrEqual(3);
    // Every step ran; a dispatch lost with the replica may have run again, never more than its attempts.
    expect(new Set(agent.receipts.map((r) => r.taskId.split(':')[0])).size).toBe(400);
    await stack.restart({ replica: 1 });
  });

  it('puts back the lines Redis lost, in their order', async () => {
    const agent = await busy({ maxConcurrency: 1, delayMs: 200 });
    const answers = flood(stack, 'lost_lines', 6);
    await waitFor('steps to wait in line', async () => {
      const [{ n }] = await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE status = 'PENDING' AND waiting_on IS NOT NULL`);
      return n >= 4 ? true : undefined;
    });
    // Redis forgets every line and every slot.
    const { Redis } = await import('ioredis');
    const redis = new Redis(process.env['REDIS_URL'] ?? '');
    const keys = await redis.keys('orchestrator:queue*');
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    const done = await answers;
    expect(done.filter((a) => a['status'] !== 'COMPLETED')).toEqual([]);
    expect(agent.receipts).toHaveLength(12);
    expect(agent.maxHeld).toBe(1);
  });
});
