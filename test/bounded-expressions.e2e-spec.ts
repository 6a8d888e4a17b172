import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from '@orchestrator/agent-sdk';
import { describe, expect, it } from 'vitest';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'expressions');
const MB = 1024 * 1024;

/** Peak and current resident memory of a process, from the kernel (worker threads included). */
function memoryOf(pid: number): { peakMb: number; nowMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakMb: kb('VmHWM') / 1024, nowMb: kb('VmRSS') / 1024 };
}

const echo = new Agent({ name: 'e2e_echo', agentType: 'test', natsUrl: testEnv().natsUrl, maxConcurrency: 64 }).handle('e2e_echo', (payload) => Promise.resolve(payload));

/** A planner whose plan is 50 steps, each a for_each of up to 1,000 items with 100 attempts: up to 5,000,000 sub-tasks. */
const planner = new Agent({ name: 'e2e_planner', agentType: 'test', natsUrl: testEnv().natsUrl }).handle('plan_task', () =>
  Promise.resolve({
    plan: {
      steps: Array.from({ length: 50 }, (_, i) => ({ id: `s${i}`, agent: 'e2e_echo', task_type: 'e2e_echo', for_each: 'request.payload.items', max_attempts: 100, input: { n: { $ref: 'item' } } })),
    },
  }),
);

/**
 * Expressions that would build gigabytes or hold the event loop for minutes, and a plan that
 * could send millions of sub-tasks, each fail their workflow with an error naming the step and
 * the limit, while the replica's memory stays small; sound expressions still run.
 */
describe('bounded expressions and plans', () => {
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    agents: [echo, planner],
    waitForAgents: 2,
    env: { PLANNER_AGENT: 'e2e_planner', PLAN_MAX_STEPS: '50' },
  });
  const list700 = Array.from({ length: 700 }, (_, i) => i);

  it('fails the doubling bomb over a 1 MB string at EXPRESSION_MAX_BYTES', async () => {
    const response = await stack.submit({ task_id: 'bomb-1', task_type: 'e2e_bomb', payload: { s: 'x'.repeat(1_000_000) } }, 60_000);
    expect(response).toMatchObject({ task_id: 'bomb-1', status: 'FAILED' });
    expect(response['error']).toMatch(/^step "grow" \(agent e2e_echo\) failed: input: built (a string of [\d,]+ characters|more than [\d,]+ bytes in all).*\(EXPRESSION_MAX_BYTES\)$/);
  });

  it('fails a comprehension nested over a 700-item list at EXPRESSION_MAX_STEPS, in a condition and in each item of a for_each', async () => {
    const when = await stack.submit({ task_id: 'loop-1', task_type: 'e2e_loop', payload: { l: list700 } }, 60_000);
    expect(when).toMatchObject({ status: 'FAILED', error: 'step "check" (agent e2e_echo) failed: when: ran more than 100,000 evaluation steps (EXPRESSION_MAX_STEPS)' });
    const items = Array.from({ length: 1_000 }, (_, i) => i);
    const each = await stack.submit({ task_id: 'loop-2', task_type: 'e2e_loop_each', payload: { items, l: list700 } }, 60_000);
    expect(each).toMatchObject({ status: 'FAILED' });
    expect(each['error']).toMatch(/^step "fan" \(agent e2e_echo\) failed: for_each: (ran more than 100,000 evaluation steps \(EXPRESSION_MAX_STEPS\)|did not finish within 1000 ms \(EXPRESSION_TIMEOUT_MS\))$/);
    const [{ rows }] = await stack.db.query<{ rows: number }>(`SELECT count(*)::int AS rows FROM tasks s JOIN tasks r ON s.root_id = r.id WHERE r.task_id = 'loop-2'`);
    // The root and the step: no item was added.
    expect(rows).toBe(2);
  });

  it("fails a planner's plan of 50 steps × 1,000 items × 100 attempts at PLAN_MAX_SUBTASKS, before any of its sub-tasks is sent", async () => {
    const response = await stack.submit({ task_id: 'plan-1', task_type: 'anything_at_all', payload: { items: Array.from({ length: 1_000 }, (_, i) => i) } }, 60_000);
    expect(response).toMatchObject({ task_id: 'plan-1', status: 'FAILED' });
    expect(response['error']).toMatch(/sends up to [\d,]+ sub-tasks \(steps × for_each items × attempts\); at most 5000 are allowed \(PLAN_MAX_SUBTASKS\)/);
    const [{ sent }] = await stack.db.query<{ sent: number }>(
      `SELECT count(*)::int AS sent FROM tasks s JOIN tasks r ON s.root_id = r.id WHERE r.task_id = 'plan-1' AND s.id <> r.id AND s.attempts > 0`,
    );
    expect(sent).toBe(0);
  });

  it('stops a regular expression that runs away in its worker, at EXPRESSION_TIMEOUT_MS', async () => {
    const response = await stack.submit({ task_id: 'regex-1', task_type: 'e2e_regex', payload: { text: `${'a'.repeat(40)}!` } }, 60_000);
    expect(response).toMatchObject({ status: 'FAILED', error: 'step "check" (agent e2e_echo) failed: when: did not finish within 1000 ms (EXPRESSION_TIMEOUT_MS)' });
  });

  it('runs sound expressions of every kind, also after the workers were stopped', async () => {
    const items = Array.from({ length: 200 }, (_, i) => i);
    const response = await stack.submit({ task_id: 'sound-1', task_type: 'e2e_sound', payload: { items } }, 60_000);
    expect(response).toMatchObject({ status: 'COMPLETED', result: { output: { count: 100, first: 0 } } });
    const again = await stack.submit({ task_id: 'regex-2', task_type: 'e2e_regex', payload: { text: 'aaaa' } }, 60_000);
    expect(again).toMatchObject({ status: 'COMPLETED' });
  });

  it('kept the replica under 300 MB of resident memory through all of it', () => {
    const pid = stack.orchestrator.child.pid ?? 0;
    const { peakMb, nowMb } = memoryOf(pid);
    console.log(`bounded expressions: replica ${pid} peak RSS ${peakMb.toFixed(1)} MB, now ${nowMb.toFixed(1)} MB`);
    expect(peakMb).toBeGreaterThan(0);
    expect(peakMb * MB).toBeLessThan(300 * MB);
  });
});
