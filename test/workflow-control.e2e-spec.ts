import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from '@orchestrator/agent-sdk';
import { beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');

interface Call {
  payload: Record<string, unknown>;
  started: number;
  finished: number;
}

/** One agent for every step of these workflows: echoes its payload after `delay_ms`, and records what it was given and when. */
class EchoAgent {
  readonly calls: Call[] = [];
  inFlight = 0;
  maxInFlight = 0;
  readonly agent = new Agent({ name: 'e2e_ctl', agentType: 'test', natsUrl: testEnv().natsUrl, maxConcurrency: 50 }).handle(
    'e2e_echo',
    async (payload) => {
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const started = Date.now();
      try {
        if (payload['value'] === 'fail') throw new Error('asked to fail');
        // An item may carry its own delay, so that items finish out of list order.
        const item = payload['value'];
        const own = typeof item === 'object' && item !== null && 'delay_ms' in item ? item.delay_ms : undefined;
        const delay = own ?? payload['delay_ms'];
        await sleep(typeof delay === 'number' ? delay : 0);
        return payload;
      } finally {
        this.inFlight -= 1;
        this.calls.push({ payload, started, finished: Date.now() });
      }
    },
  );

  reset(): void {
    this.calls.length = 0;
    this.maxInFlight = 0;
  }
}

describe('workflow control: fan-out/fan-in, when, for_each and expressions', () => {
  const echo = new EchoAgent();
  const stack = useTestStack({ workflowsDir: FIXTURES, agents: [echo.agent], waitForAgents: 1 });

  beforeEach(() => echo.reset());

  async function stepRows(taskId: string): Promise<{ step_key: string; status: string; attempts: number }[]> {
    return stack.db.query(
      `SELECT s.step_key, s.status, s.attempts FROM tasks s JOIN tasks r ON s.root_id = r.id
        WHERE r.task_id = $1 AND r.parent_id IS NULL AND s.id <> r.id ORDER BY s.created_at, s.step_key`,
      [taskId],
    );
  }

  it('fans out to two steps that run at the same time and joins when both are done', async () => {
    const response = await stack.submit({ task_id: 'fan-1', task_type: 'e2e_fan', payload: { text: 'x' } });
    expect(response).toMatchObject({ status: 'COMPLETED', success: true });
    expect((response['result'] as { output: unknown }).output).toEqual({ parts: ['x-left', 'x-right'] });
    const byText = (text: string): Call => {
      const call = echo.calls.find((c) => c.payload['text'] === text);
      if (!call) throw new Error(`no call with text ${text}`);
      return call;
    };
    const [split, left, right] = [byText('x'), byText('x-left'), byText('x-right')];
    const join = echo.calls.find((c) => Array.isArray(c.payload['parts']));
    // Each of left and right started before the other finished: they overlapped.
    expect(left.started).toBeLessThan(right.finished);
    expect(right.started).toBeLessThan(left.finished);
    expect(left.started).toBeGreaterThanOrEqual(split.finished);
    expect(join?.started).toBeGreaterThanOrEqual(Math.max(left.finished, right.finished));
  });

  it('runs the branch whose when holds and skips the other, whose dependents still run', async () => {
    const high = await stack.submit({ task_id: 'branch-high', task_type: 'e2e_branch', payload: { score: 0.9 } });
    expect(high).toMatchObject({ status: 'COMPLETED', success: true });
    const highResult = high['result'] as { output: Record<string, unknown>; steps: Record<string, unknown> };
    expect(highResult.output).toEqual({ action: 'publish', notified: { published: 'publish', revised: null } });
    expect(highResult.steps['revise']).toEqual({ skipped: true, reason: 'when is false: steps.review.result.score < 0.5' });
    expect(echo.calls.map((c) => c.payload['action'] ?? null)).not.toContain('revise');

    const low = await stack.submit({ task_id: 'branch-low', task_type: 'e2e_branch', payload: { score: 0.1 } });
    expect(low).toMatchObject({ status: 'COMPLETED', success: true });
    expect((low['result'] as { output: unknown }).output).toEqual({ action: 'revise', notified: { published: null, revised: 'revise' } });
    // Skipped steps were never sent: three sub-tasks per workflow, not four.
    expect(echo.calls).toHaveLength(6);
    const rows = await stepRows('branch-low');
    expect(rows.find((r) => r.step_key === 'publish')).toEqual({ step_key: 'publish', status: 'COMPLETED', attempts: 0 });
    const metrics = await (await fetch(`${stack.orchestrator.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^orchestrator_steps_skipped_total 2$/m);
  });

  it('runs one sub-task per item of 100, never more than 10 at once, and keeps the results in list order', async () => {
    // Delays from 100 to 190 ms in a scrambled order: items finish out of list order.
    const items = Array.from({ length: 100 }, (_, i) => ({ n: i, word: `w${(i * 37) % 100}`, delay_ms: 100 + ((i * 7) % 10) * 10 }));
    const response = await stack.submit({ task_id: 'each-100', task_type: 'e2e_each', payload: { items } });
    expect(response).toMatchObject({ status: 'COMPLETED', success: true });
    const output = (response['result'] as { output: Record<string, unknown> }).output;
    expect(output['values']).toEqual(items);
    expect(output['positions']).toEqual(items.map((_, i) => i));
    expect(output['total']).toBe(100);
    const itemCalls = echo.calls.filter((c) => 'position' in c.payload);
    expect(itemCalls).toHaveLength(100);
    expect(itemCalls.find((c) => c.payload['position'] === 41)?.payload['label']).toBe('item 42');
    // The agent saw them finish out of order; the result is in list order all the same.
    const finishOrder = itemCalls.map((c) => c.payload['position']);
    expect(finishOrder).not.toEqual([...finishOrder].sort((a, b) => Number(a) - Number(b)));
    expect(echo.maxInFlight).toBe(10);
    const rows = await stepRows('each-100');
    expect(rows.filter((r) => r.step_key.startsWith('each[')).every((r) => r.status === 'COMPLETED' && r.attempts === 1)).toBe(true);
    expect(rows.filter((r) => r.step_key.startsWith('each['))).toHaveLength(100);

    const detail = await stack.get<{ steps: { step: string }[] }>('/tasks/each-100');
    expect(detail.steps.slice(0, 3).map((s) => s.step)).toEqual(['each', 'each[0]', 'each[1]']);
    expect(detail.steps.at(-1)?.step).toBe('count');
  });

  it('completes a for_each over an empty list without sending anything for it', async () => {
    const response = await stack.submit({ task_id: 'each-0', task_type: 'e2e_each', payload: { items: [] } });
    expect(response).toMatchObject({ status: 'COMPLETED', success: true });
    expect((response['result'] as { output: unknown }).output).toEqual({ values: [], positions: [], total: 0 });
    expect(echo.calls).toHaveLength(1);
  });

  it('stops a condition that runs away on hostile data at its time limit and sends nothing', async () => {
    const response = await stack.submit({
      task_id: 'guard-1',
      task_type: 'e2e_guard',
      payload: { text: `${'a'.repeat(40)}!` },
    });
    expect(response).toMatchObject({ status: 'FAILED', success: false });
    expect(response['error']).toBe('step "check" (agent e2e_ctl) failed: when: did not finish within 1000 ms (EXPRESSION_TIMEOUT_MS)');
    expect(echo.calls).toHaveLength(0);
    // The replica is still fine.
    const ok = await stack.submit({ task_id: 'guard-2', task_type: 'e2e_guard', payload: { text: 'aaaa' } });
    expect(ok).toMatchObject({ status: 'COMPLETED', success: true });
    expect(echo.calls).toHaveLength(1);
    expect((await fetch(`${stack.orchestrator.baseUrl}/health/ready`)).status).toBe(200);
  });

  it('fails the for_each step, and the workflow, when an item fails for good, and stops the other items', async () => {
    // Item 5 fails at once, on both its attempts; the others hold their slot for a second.
    const items = Array.from({ length: 30 }, (_, i) => (i === 5 ? 'fail' : i));
    const response = await stack.submit({ task_id: 'each-bad', task_type: 'e2e_each', payload: { items, delay_ms: 1000 } });
    expect(response).toMatchObject({ status: 'FAILED', success: false });
    expect(response['error']).toBe('step "each" (agent e2e_ctl) failed: item 5 of 30 failed after 2 attempts: asked to fail');
    const rows = await stepRows('each-bad');
    const itemRows = new Map(rows.filter((r) => r.step_key.startsWith('each[')).map((r) => [r.step_key, r]));
    expect(itemRows.get('each[5]')).toEqual({ step_key: 'each[5]', status: 'FAILED', attempts: 2 });
    // The ten in flight were cancelled; the twenty never sent stay unsent.
    for (let i = 0; i < 30; i++) {
      if (i === 5) continue;
      expect(itemRows.get(`each[${i}]`)).toEqual({ step_key: `each[${i}]`, status: 'CANCELLED', attempts: i < 10 ? 1 : 0 });
    }
    expect(rows.find((r) => r.step_key === 'count')?.status).toBe('CANCELLED');
  });

  it('finishes a for_each after the orchestrator is killed mid-list and started again, each item once, in order', async () => {
    const items = Array.from({ length: 40 }, (_, i) => i);
    const answer = stack.submit({ task_id: 'each-kill', task_type: 'e2e_each_short', payload: { items } }, 60_000);
    // The second batch of ten is under way after about 300 ms.
    // Calls of this workflow (a cancelled item of the test before may still be finishing its sleep).
    const mine = (): Call[] => echo.calls.filter((c) => c.payload['delay_ms'] === 300);
    await waitFor('the second batch to start', () => (mine().length >= 10 ? true : undefined), 10_000, 20);
    await stack.orchestrator.kill();
    const killedAt = Date.now();
    await stack.restart();
    const response = await answer;
    expect(response).toMatchObject({ task_id: 'each-kill', status: 'COMPLETED', success: true });
    expect((response['result'] as { output: unknown }).output).toEqual({ positions: items });
    const rows = await stepRows('each-kill');
    const itemRows = rows.filter((r) => r.step_key.startsWith('each['));
    expect(itemRows).toHaveLength(40);
    expect(itemRows.every((r) => r.status === 'COMPLETED' && r.attempts >= 1)).toBe(true);

    const calls = mine();
    const position = (call: Call): number => Number(call.payload['position']);
    // Every item went to the agent; for the first time in list order (none before its turn), but for
    // neighbours whose slots freed together: their sub-tasks, taken in order, are published by
    // dispatches that run side by side, so one may arrive a place early.
    const firsts = [...new Map([...calls].sort((x, y) => y.started - x.started).map((call) => [position(call), call])).values()].sort((x, y) => x.started - y.started || position(x) - position(y));
    expect([...firsts.map(position)].sort((x, y) => x - y)).toEqual(items);
    expect(firsts.map((call, index) => Math.abs(position(call) - index)).filter((displaced) => displaced > 1)).toEqual([]);
    // Once each, but for those in flight when the orchestrator was killed: their answers had no one to
    // take them, so they went again once their deadline passed (ten at the most: the concurrency).
    const again = [...new Set(calls.map(position).filter((p, i, all) => all.indexOf(p) !== i))];
    expect(again.length).toBeLessThanOrEqual(10);
    for (const p of again) expect(firsts.find((call) => position(call) === p)?.started).toBeLessThan(killedAt);
    // Never more than concurrency (10) at the agent at once.
    const busiest = Math.max(...calls.map((call) => calls.filter((other) => other.started <= call.started && other.finished > call.started).length));
    expect(busiest).toBeLessThanOrEqual(10);
  });
});
