import 'reflect-metadata';
import { TaskPriority, TaskStatus } from '@orchestrator/contracts';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../apps/orchestrator/src/config/app-config.js';
import type { EffectRunner } from '../apps/orchestrator/src/engine/effect-runner.js';
import { TransitionQueue } from '../apps/orchestrator/src/engine/transition-queue.js';
import { TransitionRunner, type TransitionJob } from '../apps/orchestrator/src/engine/transition-runner.js';
import type { Workflow } from '../apps/orchestrator/src/engine/workflow.js';
import { WorkflowCaches } from '../apps/orchestrator/src/engine/workflow-reads.js';
import { MetricsService } from '../apps/orchestrator/src/metrics/metrics.service.js';
import { dataSourceOptions } from '../apps/orchestrator/src/persistence/data-source-options.js';
import { newStepRow } from '../apps/orchestrator/src/persistence/task-rows.js';
import { TasksRepository } from '../apps/orchestrator/src/persistence/tasks.repository.js';
import type { Plan } from '../apps/orchestrator/src/planning/plan.js';
import { PlanningService } from '../apps/orchestrator/src/planning/planning.service.js';
import type { WorkflowCatalog } from '../apps/orchestrator/src/planning/workflow-catalog.service.js';
import { parseWorkflowDefinition } from '../apps/orchestrator/src/planning/workflow-definition.js';
import { TestDatabase } from './support/database.js';
import { testEnv } from './support/test-env.js';

/** A workflow of one step, planned as a file's would be. */
const { definition } = parseWorkflowDefinition({ task_type: 'one', version: 1, steps: [{ id: 'only', agent: 'worker', task_type: 'work' }] }, 'one.yaml');
if (!definition) throw new Error('the test workflow does not parse');
const plan: Plan = new PlanningService({} as WorkflowCatalog, { DEFAULT_STEP_TIMEOUT_MS: 1_000, DEFAULT_MAX_ATTEMPTS: 1 } as AppConfig).snapshot(definition);
const step = plan.steps[0];

/**
 * The transition runner against a real PostgreSQL: transitions of several workflows share a
 * transaction, and one the database refuses, or one that throws, touches only its own workflow.
 */
describe('transitions in one batch, one of them bad', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let queue: TransitionQueue;
  const effects: unknown[] = [];

  beforeAll(async () => {
    db = await TestDatabase.connect();
    await db.reset();
    dataSource = await new DataSource(dataSourceOptions(testEnv().databaseUrl, 6)).initialize();
    const config = { DB_POOL_SIZE: 6 } as AppConfig;
    const effectRunner = { run: (list: unknown[]) => Promise.resolve(void effects.push(...list)) } as unknown as EffectRunner;
    const runner = new TransitionRunner(new TasksRepository(dataSource, config), new WorkflowCaches(), effectRunner, new MetricsService());
    // One batch at a time, so that the jobs queued together share one.
    queue = new TransitionQueue(runner, { DB_POOL_SIZE: 3 } as AppConfig);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.close();
  });

  /** Starts workflows with one step each; returns their step rows' ids. */
  async function start(count: number, prefix: string): Promise<string[]> {
    return Promise.all(
      Array.from({ length: count }, (_, i) =>
        queue.apply({
          target: { kind: 'new', workflow: { request: { task_id: `${prefix}-${i}`, task_type: 'one', payload: {}, priority: TaskPriority.Normal }, plan, replyTo: null, traceparent: null, depth: 1, fingerprint: null, concurrencyKey: null } },
          apply: (wf) => {
            if (!wf) throw new Error('not created');
            const [row] = wf.add([newStepRow(step, 'only', wf.root.id, wf.root.id, wf.root.priority)]);
            return Promise.resolve(row?.id ?? '');
          },
        }),
      ),
    );
  }

  /** Completes a step with `result`; `rejected` records the refusal the way answers do. */
  function complete(rowId: string, result: Record<string, unknown>, effect?: () => void): TransitionJob<string> {
    return {
      target: { kind: 'row', rowId },
      rows: [rowId],
      apply: (wf: Workflow | null) => {
        const row = wf?.rows.get(rowId);
        if (!wf || !row) throw new Error(`row ${rowId} not read`);
        effect?.();
        wf.patch(row, { status: TaskStatus.Completed, result, completed_at: wf.now });
        wf.effects.push({ kind: 'release', agent: 'worker', subtaskId: `${rowId}:1` });
        return Promise.resolve('completed');
      },
      rejected: (reason) => ({
        target: { kind: 'row', rowId },
        rows: [rowId],
        apply: (wf: Workflow | null) => {
          const row = wf?.rows.get(rowId);
          if (!wf || !row) throw new Error(`row ${rowId} not read`);
          wf.patch(row, { status: TaskStatus.Failed, error: `answer rejected: ${reason}`, completed_at: wf.now });
          return Promise.resolve('rejected');
        },
      }),
    };
  }

  async function rows(ids: string[]): Promise<{ id: string; status: string; error: string | null; result: unknown }[]> {
    const found = await db.query<{ id: string; status: string; error: string | null; result: unknown }>(`SELECT id, status, error, result FROM tasks WHERE id = ANY($1::uuid[])`, [ids]);
    return ids.map((id) => found.find((row) => row.id === id) ?? { id, status: 'missing', error: null, result: null });
  }

  it('records a result the database refuses as a failed attempt of its workflow alone; the others commit', async () => {
    const ids = await start(10, 'db-refuses');
    effects.length = 0;
    // Past the checks at the edge (this calls the runner directly): PostgreSQL refuses the NUL in jsonb.
    const outcomes = await Promise.all(ids.map((id, i) => queue.apply(complete(id, i === 4 ? { text: 'a\u0000b' } : { n: i }))));
    expect(outcomes).toEqual(ids.map((_, i) => (i === 4 ? 'rejected' : 'completed')));
    const stored = await rows(ids);
    expect(stored.map((row) => row.status)).toEqual(ids.map((_, i) => (i === 4 ? 'FAILED' : 'COMPLETED')));
    expect(stored[4]?.error).toMatch(/^answer rejected: .*(unsupported Unicode escape sequence|\\u0000)/);
    expect(stored.filter((_, i) => i !== 4).map((row) => row.result)).toEqual(ids.filter((_, i) => i !== 4).map((_, k) => ({ n: k < 4 ? k : k + 1 })));
    // The effects of the transitions that committed ran once each; none of the refused one's.
    expect(effects.filter((e) => (e as { kind: string }).kind === 'release')).toHaveLength(9);
  });

  it('keeps a transition that throws out of the batch and applies the others', async () => {
    const ids = await start(5, 'throws');
    const outcomes = await Promise.allSettled(
      ids.map((id, i) =>
        queue.apply({
          ...complete(id, { n: i }, () => {
            if (i === 2) throw new Error('the engine cannot take this');
          }),
          rejected: undefined,
        }),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((outcomes[2] as PromiseRejectedResult).reason)).toContain('the engine cannot take this');
    expect((await rows(ids)).map((row) => row.status)).toEqual(['COMPLETED', 'COMPLETED', 'PENDING', 'COMPLETED', 'COMPLETED']);
  });
});
