import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlainAgent } from './support/plain-agent.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'policies');

interface Usage {
  tokens?: number;
  input_tokens?: number;
  output_tokens?: number;
  cost?: number;
}

interface Detail {
  status: string;
  error: string | null;
  usage: Usage | null;
  budget: { max_tokens?: number; max_cost?: number } | null;
  steps: { step: string; status: string; attempts: number; error: string | null; usage: Usage | null; result: Record<string, unknown> | null }[];
}

/** The planner of the dynamic task types here: a plan as the request's payload describes. */
function plan(payload: Record<string, unknown>): Record<string, unknown> {
  const request = payload['request'] as { payload: Record<string, unknown> };
  const meter = (id: string, extra: Record<string, unknown> = {}) => ({ id, agent: 'e2e_meter', task_type: 'e2e_meter', input: { usage: { tokens: 3_000 } }, ...extra });
  switch (request.payload['kind']) {
    case 'attempts':
      return { steps: [meter('a', { max_attempts: 100 }), meter('b', { max_attempts: 100 }), meter('c', { max_attempts: 100 })] };
    case 'items':
      return { steps: [meter('fan', { for_each: 'request.payload.items', concurrency: 5, max_attempts: 3 })] };
    default:
      return { steps: [meter('first'), meter('second', { depends_on: ['first'] }), meter('third', { depends_on: ['second'] })] };
  }
}

describe('usage and budgets, two replicas', () => {
  let meter: PlainAgent;
  let planner: PlainAgent;
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    replicas: 2,
    env: (replica) => ({
      INSTANCE_ID: `usage-${replica + 1}`,
      BUDGET_MAX_TOKENS: '500000',
      PLANNER_AGENT: 'e2e_usage_planner',
      PLANNER_TIMEOUT_MS: '5000',
      PLAN_DEFAULT_MAX_TOKENS: '5000',
      PLAN_MAX_SUBTASKS: '200',
    }),
    before: async () => {
      meter = await PlainAgent.start({
        name: 'e2e_meter',
        capabilities: ['e2e_meter'],
        handle: (payload) => ({ result: { n: payload['n'] ?? null }, extra: { usage: payload['usage'] } }),
      });
      planner = await PlainAgent.start({ name: 'e2e_usage_planner', capabilities: ['plan_task'], handle: (payload) => ({ result: { plan: plan(payload) } }) });
    },
    waitForAgents: 2,
  });
  stack.onStop(() => Promise.all([meter.stop(), planner.stop()]));

  const detail = (taskId: string): Promise<Detail> => stack.get<Detail>(`/tasks/${encodeURIComponent(taskId)}`);

  it('sums usage per step, per for_each step, per child workflow and per workflow, in GET /tasks/:id and the final response', async () => {
    const answer = await stack.submit({ task_id: 'metered-1', task_type: 'e2e_usage_parent', requester_id: 'e2e_client' }, 60_000);
    expect(answer).toMatchObject({ status: 'COMPLETED', usage: { tokens: 1_190, input_tokens: 30, output_tokens: 60, cost: 1.5 } });
    const view = await detail('metered-1');
    expect(view.usage).toEqual({ tokens: 1_190, input_tokens: 30, output_tokens: 60, cost: 1.5 });
    const byStep = new Map(view.steps.map((step) => [step.step, step.usage]));
    expect(byStep.get('draft')).toEqual({ tokens: 100, cost: 0.5 });
    expect(byStep.get('each')).toEqual({ tokens: 90, input_tokens: 30, output_tokens: 60 });
    expect(byStep.get('each[0]')).toEqual({ tokens: 30, input_tokens: 10, output_tokens: 20 });
    // A workflow: step's usage is its child's total, which GET /tasks/:id of the child shows too.
    expect(byStep.get('child')).toEqual({ tokens: 1_000, cost: 1 });
    const childId = await stack.db.query<{ task_id: string }>(`SELECT task_id FROM tasks WHERE parent_id IS NULL AND task_type = 'e2e_usage_child'`);
    expect((await detail(childId[0]?.task_id ?? '')).usage).toEqual({ tokens: 1_000, cost: 1 });
    // The metrics count it by agent (where the work was done) and by requester (once, child included).
    const scrape = (await Promise.all(stack.orchestrators.map(async (replica) => (await fetch(`${replica.baseUrl}/metrics`)).text()))).join('\n');
    const total = (series: string): number =>
      scrape
        .split('\n')
        .filter((line) => line.startsWith(series))
        .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    expect(total('orchestrator_agent_usage_total{agent="e2e_meter",kind="tokens"}')).toBeGreaterThanOrEqual(1_190);
    expect(total('orchestrator_requester_usage_total{requester="e2e_client",kind="tokens"}')).toBe(1_190);
    expect(total('orchestrator_requester_usage_total{requester="e2e_client",kind="cost"}')).toBe(1.5);
  });

  it('fails a workflow past its budget with the exact message, and sends nothing after', async () => {
    const before = meter.receipts.length;
    const answer = await stack.submit({ task_id: 'over-budget', task_type: 'e2e_budget' }, 60_000);
    expect(answer).toMatchObject({ status: 'FAILED', error: 'budget exceeded: 201,340 tokens of 200,000' });
    const view = await detail('over-budget');
    expect(view.budget).toEqual({ max_tokens: 200_000 });
    expect(view.usage).toMatchObject({ tokens: 201_340 });
    // Five items ran (one at a time); the fifth passed the budget; the other five were never sent.
    const items = view.steps.filter((step) => step.step.startsWith('each['));
    expect(items.filter((item) => item.status === 'COMPLETED')).toHaveLength(5);
    expect(items.filter((item) => item.attempts === 0)).toHaveLength(5);
    expect(meter.receipts.length - before).toBe(5);
    const [{ after }] = await stack.db.query<{ after: number }>(
      `SELECT count(*)::int AS after FROM task_events e JOIN tasks r ON r.id = e.root_id
        WHERE r.task_id = 'over-budget' AND e.kind = 'dispatched'
          AND e.id > (SELECT min(id) FROM task_events WHERE root_id = r.id AND kind = 'failed')`,
    );
    expect(after).toBe(0);
  });

  it('takes a lower budget from the request, and passes what is left to a child workflow', async () => {
    const lower = await stack.submit({ task_id: 'request-budget', task_type: 'e2e_budget', budget: { max_tokens: 100_000 } }, 60_000);
    expect(lower).toMatchObject({ status: 'FAILED', error: 'budget exceeded: 120,804 tokens of 100,000' });
    const parent = await stack.submit({ task_id: 'parent-budget', task_type: 'e2e_usage_parent', budget: { max_tokens: 1_000 } }, 60_000);
    expect(parent['status']).toBe('FAILED');
    const child = (await detail('parent-budget')).steps.find((step) => step.step === 'child');
    // The child had what its parent had left (at most 900: the draft spent 100) and spent 1,000.
    expect(child?.error).toMatch(/budget exceeded: 1,000 tokens of (9|8)\d\d/);
  });

  it('refuses a bad budget in a request, and one over the configured maximum, naming the field; stores nothing', async () => {
    const cases: [unknown, string][] = [
      [{ max_tokens: -5 }, 'budget.max_tokens: must be a non-negative number'],
      [{ max_cost: 'lots' }, 'budget.max_cost: must be a non-negative number'],
      [7, 'budget: must be an object with max_tokens or max_cost'],
      [{ max_tokens: 1_000_000 }, 'budget.max_tokens: must be at most 500000 (BUDGET_MAX_TOKENS)'],
    ];
    for (const [i, [budget, error]] of cases.entries()) {
      const res = await fetch(`${stack.orchestrator.baseUrl}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ task_id: `bad-budget-${i}`, task_type: 'e2e_budget', budget }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toBe(error);
      expect(await stack.submit({ task_id: `bad-budget-nats-${i}`, task_type: 'e2e_budget', budget })).toMatchObject({ status: 'FAILED', error });
    }
    expect(await stack.db.query(`SELECT id FROM tasks WHERE task_id LIKE 'bad-budget-%'`)).toEqual([]);
  });

  it('fails an attempt whose answer carries a usage that is not one, naming the field', async () => {
    const answer = await stack.submit({ task_id: 'bad-usage', task_type: 'e2e_usage_bad' }, 60_000);
    expect(answer['status']).toBe('FAILED');
    const [step] = (await detail('bad-usage')).steps;
    expect(step?.error).toBe('answer rejected: usage.tokens: must be a non-negative number');
    expect(step?.usage).toBeNull();
  });

  it('gives a plan from the planner the default budget and bounds its sub-tasks, before it runs and as its lists expand', async () => {
    const small = await stack.submit({ task_id: 'planned-small', task_type: 'e2e_planned_usage', payload: { kind: 'small' } }, 60_000);
    // Three steps of 3,000 tokens under the default budget of 5,000: the second passes it, the third is never sent.
    expect(small).toMatchObject({ status: 'FAILED', error: 'budget exceeded: 6,000 tokens of 5,000' });
    const view = await detail('planned-small');
    expect(view.budget).toEqual({ max_tokens: 5_000 });
    expect(view.steps.find((step) => step.step === 'third')?.attempts).toBe(0);
    const attempts = await stack.submit({ task_id: 'planned-attempts', task_type: 'e2e_planned_usage', payload: { kind: 'attempts' } }, 60_000);
    expect(attempts['status']).toBe('FAILED');
    expect(String(attempts['error'])).toContain('sends up to 300 sub-tasks (steps × attempts); at most 200 are allowed (PLAN_MAX_SUBTASKS)');
    expect(await stack.db.query(`SELECT id FROM tasks WHERE task_id = 'planned-attempts'`)).toEqual([]);
    const items = await stack.submit({ task_id: 'planned-items', task_type: 'e2e_planned_usage', payload: { kind: 'items', items: Array.from({ length: 100 }, (_, i) => i) } }, 60_000);
    expect(items).toMatchObject({ status: 'FAILED', error: 'plan: sends up to 300 sub-tasks (steps × for_each items × attempts); at most 200 are allowed (PLAN_MAX_SUBTASKS)' });
    const sentItems = await stack.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE r.task_id = 'planned-items' AND s.attempts > 0`,
    );
    expect(sentItems[0]?.n).toBe(0);
  });
});
