import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { screenshot, useBrowserPage } from './support/browser.js';
import { waitFor } from './support/orchestrator-process.js';
import { hold, PlainAgent } from './support/plain-agent.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'policies');

interface AgentListed {
  name: string;
  capacity: number | null;
  in_flight: number;
  waiting: number;
  rate_limit: { limit: number; per: string } | null;
  rate_headroom: number | null;
}

describe('agents, their waiting steps and rate-limit headroom; usage on the workflow page', () => {
  const agents: PlainAgent[] = [];
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    before: async () => {
      agents.push(
        await PlainAgent.start({ name: 'e2e_narrow', capabilities: ['e2e_hold'], maxConcurrency: 1, handle: async (payload, _id, signal) => (await hold(Number(payload['hold_ms']), signal), {}) }),
        await PlainAgent.start({ name: 'e2e_limited', capabilities: ['e2e_echo'], rateLimit: { limit: 5, per: 'minute' } }),
        await PlainAgent.start({ name: 'e2e_meter', capabilities: ['e2e_meter'], handle: (payload) => ({ result: {}, extra: { usage: payload['usage'] } }) }),
      );
    },
    waitForAgents: 3,
  });
  stack.onStop(() => Promise.all(agents.map((agent) => agent.stop())));

  const browser = useBrowserPage();

  const listed = async (name: string): Promise<AgentListed | undefined> => (await stack.get<{ items: AgentListed[] }>('/agents')).items.find((agent) => agent.name === name);
  const post = (taskId: string, taskType: string, payload: Record<string, unknown> = {}) =>
    fetch(`${stack.orchestrator.baseUrl}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task_id: taskId, task_type: taskType, payload }) });
  const metric = async (series: string): Promise<number | undefined> => {
    const line = (await (await fetch(`${stack.orchestrator.baseUrl}/metrics`)).text()).split('\n').find((one) => one.startsWith(series));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };

  it('counts the steps waiting for a full agent, beside its sub-tasks in flight against capacity, in GET /agents and on the agents page', async () => {
    for (const i of [0, 1, 2, 3]) expect((await post(`busy-${i}`, 'e2e_visible_busy', { hold_ms: 60_000 })).status).toBe(202);
    const narrow = await waitFor('three steps waiting for e2e_narrow', async () => {
      const agent = await listed('e2e_narrow');
      return agent?.waiting === 3 ? agent : undefined;
    });
    expect(narrow).toMatchObject({ capacity: 1, in_flight: 1, waiting: 3, rate_limit: null, rate_headroom: null });
    await browser.page.goto(`${stack.orchestrator.baseUrl}/ui/agents`);
    await browser.page.locator('[data-agent="e2e_narrow"] [data-role="waiting"][data-value="3"]').waitFor();
    expect(await browser.page.locator('[data-agent="e2e_narrow"] [data-role="waiting"]').textContent()).toBe('3 steps');
    await screenshot(browser.page, 'agents-waiting');
    for (const i of [0, 1, 2, 3]) await fetch(`${stack.orchestrator.baseUrl}/tasks/busy-${i}/cancel`, { method: 'POST' });
    await waitFor('no step waiting for e2e_narrow once they are cancelled', async () => ((await listed('e2e_narrow'))?.waiting === 0 ? true : undefined));
  });

  it('shows how much of an agent\'s rate limit is left, in GET /agents, the metrics and the agents page', async () => {
    for (const i of [0, 1]) expect((await stack.submit({ task_id: `rated-${i}`, task_type: 'e2e_visible_rated' }, 60_000))['status']).toBe('COMPLETED');
    expect(await listed('e2e_limited')).toMatchObject({ rate_limit: { limit: 5, per: 'minute' }, rate_headroom: 3 });
    expect(await metric('orchestrator_agent_rate_headroom{agent="e2e_limited"}')).toBe(3);
    await browser.page.goto(`${stack.orchestrator.baseUrl}/ui/agents`);
    const headroom = browser.page.locator('[data-agent="e2e_limited"] [data-role="rate-headroom"]');
    await headroom.waitFor();
    expect(await headroom.getAttribute('data-value')).toBe('3');
    expect(await headroom.textContent()).toContain('3/5 left per minute');
    // Four more: three go, the fourth waits for the window.
    for (const i of [2, 3, 4, 5]) expect((await post(`rated-${i}`, 'e2e_visible_rated')).status).toBe(202);
    await waitFor('the rate limit to be used up', async () => ((await listed('e2e_limited'))?.rate_headroom === 0 ? true : undefined));
    await waitFor('a step to wait for the rate limit', async () => ((await metric('orchestrator_rate_limit_waits_total{scope="agent"}')) ?? 0) >= 1 ? true : undefined);
    // The three that went are answered at once; the fourth stays RUNNING, its step never sent.
    const statuses = await waitFor('three of the four to complete', async () => {
      const now = await Promise.all([2, 3, 4, 5].map(async (i) => (await stack.get<{ status: string }>(`/tasks/rated-${i}`)).status));
      return now.filter((status) => status === 'COMPLETED').length === 3 ? now : undefined;
    });
    expect(statuses.filter((status) => status === 'RUNNING')).toHaveLength(1);
    // Five sub-tasks in all reached the agent in this minute: its limit.
    expect(agents[1]?.receipts.filter((receipt) => String(receipt.payload['run']).startsWith('rated-'))).toHaveLength(5);
    for (const i of [2, 3, 4, 5]) await fetch(`${stack.orchestrator.baseUrl}/tasks/rated-${i}/cancel`, { method: 'POST' });
  });

  it('shows what a workflow cost on its page: the total and each step\'s', async () => {
    expect((await stack.submit({ task_id: 'costly', task_type: 'e2e_usage_parent' }, 60_000))['status']).toBe('COMPLETED');
    await browser.page.goto(`${stack.orchestrator.baseUrl}/ui/tasks/costly`);
    const tokens = browser.page.locator('[data-role="usage"] [data-role="usage-tokens"]');
    await tokens.waitFor();
    expect(await tokens.textContent()).toContain('1,190');
    expect(await browser.page.locator('[data-role="usage"] [data-role="usage-cost"]').textContent()).toContain('1.5');
    expect(await browser.page.locator('[data-role="usage"] tr[data-step="child"]').textContent()).toContain('1,000');
    expect(await browser.page.locator('[data-role="usage"] tr[data-step="each"]').textContent()).toContain('90');
    await screenshot(browser.page, 'workflow-usage');
  });
});
