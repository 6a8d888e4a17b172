import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from '@orchestrator/agent-sdk';
import { describe, expect, it } from 'vitest';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'engine');

/** A few milliseconds at most: answers of one workflow arrive together, at both replicas. */
const jitter = (): Promise<void> => sleep(Math.floor(Math.random() * 4));

/** The sub-task ids the racer was given, by the row they belong to (`<row>:<attempt>`). */
const delivered = new Map<string, string[]>();

function deliver(taskId: string): void {
  const row = taskId.split(':')[0] ?? '';
  delivered.set(row, [...(delivered.get(row) ?? []), taskId]);
}

/** The agent of these workflows, answering within milliseconds; also the planner of their revisions. */
function racer(): Agent {
  const natsUrl = testEnv().natsUrl;
  return new Agent({ name: 'e2e_racer', agentType: 'test', natsUrl, maxConcurrency: 5_000 })
    .handle('e2e_list', async (payload, ctx) => {
      deliver(ctx.taskId);
      await jitter();
      return { list: Array.from({ length: Number(payload['n']) }, (_, i) => i) };
    })
    .handle('e2e_echo', async (payload, ctx) => {
      deliver(ctx.taskId);
      await jitter();
      return payload;
    })
    .handle('e2e_fail', async () => {
      await jitter();
      throw new Error('fails on purpose');
    });
}

/** Plans the rest of an e2e_race_replan workflow: the join, after a step that does what `broken` could not. */
function planner(): Agent {
  return new Agent({ name: 'e2e_race_planner', agentType: 'test', natsUrl: testEnv().natsUrl, maxConcurrency: 1_000 }).handle('plan_task', async (payload) => {
    await jitter();
    const revise = payload['revise'] as { completed: Record<string, unknown> } | undefined;
    if (!revise) throw new Error('plans revisions only');
    const echo = (id: string, after: string[], value: unknown): Record<string, unknown> => ({ id, agent: 'e2e_racer', task_type: 'e2e_echo', depends_on: after, input: { value } });
    // `beside` may have finished before the failure stopped it, or not: the revision runs it again only if not.
    const besideDone = Object.hasOwn(revise.completed, 'beside');
    const steps = besideDone
      ? [echo('instead', [], 'fixed'), echo('join', ['instead', 'beside'], { $ref: 'steps.beside.result.value' })]
      : [echo('beside_again', [], { $ref: 'request.payload.id' }), echo('join', ['beside_again'], { $ref: 'steps.beside_again.result.value' })];
    return { plan: { steps } };
  });
}

describe('two replicas, answers arriving together', () => {
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    replicas: 2,
    env: (replica) => ({ INSTANCE_ID: `race-${replica + 1}`, PLANNER_AGENT: 'e2e_race_planner', PLANNER_TIMEOUT_MS: '5000' }),
    agents: [racer(), planner()],
    waitForAgents: 2,
  });

  it('runs 300 workflows of two parallel steps, a for_each of 20 and a join whole: the join sees every item', async () => {
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        // Spread over about a second and a half, as requests come.
        await sleep(i * 5);
        return stack.submit({ task_id: `race-${i}`, task_type: 'e2e_race', payload: { n: 20 } }, 120_000);
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const wrong = answers.filter((answer) => {
      const output = (answer['result'] as { output?: { count?: number; values?: number[] } } | null)?.output;
      return answer['status'] !== 'COMPLETED' || output?.count !== 20 || JSON.stringify(output.values) !== JSON.stringify(Array.from({ length: 20 }, (_, k) => k));
    });
    const perReplica = await Promise.all(stack.orchestrators.map(async (replica) => (await (await fetch(`${replica.baseUrl}/status`)).json()) as { responses_applied: number }));
    console.log(`race: 300 workflows (2 steps + 20 items + join) on 2 replicas in ${seconds.toFixed(1)} s; answers applied per replica: ${perReplica.map((r) => r.responses_applied).join(' / ')}`);
    // Both replicas took part.
    expect(perReplica.every((r) => r.responses_applied > 0)).toBe(true);
    expect(wrong.map((answer) => [answer['task_id'], answer['status'], answer['error']])).toEqual([]);
    // Each step and item ran once: one attempt each, dispatched once (by one replica), and given to the agent once.
    const rows = await stack.db.query<{ id: string; step_key: string; attempts: number; dispatched: number }>(
      `SELECT s.id, s.step_key, s.attempts,
              (SELECT count(*)::int FROM task_events e WHERE e.root_id = r.id AND e.step_id = s.step_key AND e.kind = 'dispatched') AS dispatched
         FROM tasks s JOIN tasks r ON r.id = s.root_id
        WHERE r.task_type = 'e2e_race' AND r.parent_id IS NULL AND s.parent_id IS NOT NULL AND s.item_count IS NULL`,
    );
    expect(rows).toHaveLength(300 * (20 + 3));
    expect(rows.filter((row) => row.attempts !== 1 || row.dispatched !== 1).map((row) => [row.step_key, row.attempts, row.dispatched])).toEqual([]);
    expect(rows.filter((row) => JSON.stringify(delivered.get(row.id)) !== JSON.stringify([`${row.id}:1`])).map((row) => [row.step_key, delivered.get(row.id)])).toEqual([]);
    // Nothing is left due once they are all finished.
    const [{ due }] = await stack.db.query<{ due: number }>(`SELECT count(*)::int AS due FROM tasks WHERE deadline_at IS NOT NULL OR next_attempt_at IS NOT NULL`);
    expect(due).toBe(0);
  });

  it('applies a revised plan racing the answer of the step beside the one that failed', async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        await sleep(i * 10);
        return stack.submit({ task_id: `replan-race-${i}`, task_type: 'e2e_race_replan', payload: { id: `id-${i}` } }, 120_000);
      }),
    );
    expect(answers.filter((answer) => answer['status'] !== 'COMPLETED').map((answer) => [answer['task_id'], answer['error']])).toEqual([]);
    for (const [i, answer] of answers.entries()) {
      const value = (answer['result'] as { output: { value: unknown } }).output.value;
      expect(value).toBe(`id-${i}`);
    }
    // Every workflow ran the revision, and every row of its revised plan finished.
    const rows = await stack.db.query<{ task_id: string; revision: number; unfinished: number }>(
      `SELECT r.task_id, (r.plan->>'revision')::int AS revision,
              count(s.id) FILTER (WHERE strpos(s.step_key, '@') = 0 AND s.status <> 'COMPLETED')::int AS unfinished
         FROM tasks r LEFT JOIN tasks s ON s.root_id = r.id AND s.parent_id IS NOT NULL
        WHERE r.parent_id IS NULL AND r.task_type = 'e2e_race_replan' GROUP BY r.task_id, r.plan`,
    );
    expect(rows).toHaveLength(40);
    expect(rows.filter((row) => row.revision !== 2 || row.unfinished !== 0)).toEqual([]);
  });
});
