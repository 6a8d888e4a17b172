import 'reflect-metadata';
import { TaskPriority } from '@orchestrator/contracts';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../apps/orchestrator/src/config/app-config.js';
import type { EffectRunner } from '../../apps/orchestrator/src/engine/effect-runner.js';
import type { Effect } from '../../apps/orchestrator/src/engine/effects.js';
import { TransitionQueue } from '../../apps/orchestrator/src/engine/transition-queue.js';
import { TransitionRetries } from '../../apps/orchestrator/src/engine/transition-retries.js';
import { TransitionRunner, type TransitionJob } from '../../apps/orchestrator/src/engine/transition-runner.js';
import type { Workflow } from '../../apps/orchestrator/src/engine/workflow.js';
import { WorkflowCaches } from '../../apps/orchestrator/src/engine/workflow-reads.js';
import { MetricsService } from '../../apps/orchestrator/src/metrics/metrics.service.js';
import { dataSourceOptions } from '../../apps/orchestrator/src/persistence/data-source-options.js';
import { newStepRow } from '../../apps/orchestrator/src/persistence/task-rows.js';
import { TasksRepository } from '../../apps/orchestrator/src/persistence/tasks.repository.js';
import type { Plan } from '../../apps/orchestrator/src/planning/plan.js';
import { PlanningService } from '../../apps/orchestrator/src/planning/planning.service.js';
import type { WorkflowCatalog } from '../../apps/orchestrator/src/planning/workflow-catalog.service.js';
import { parseWorkflowDefinition } from '../../apps/orchestrator/src/planning/workflow-definition.js';

/** A workflow of one step, planned as a file's would be. */
const { definition } = parseWorkflowDefinition({ task_type: 'one', version: 1, steps: [{ id: 'only', agent: 'worker', task_type: 'work' }] }, 'one.yaml');
if (!definition) throw new Error('the test workflow does not parse');
const plan: Plan = new PlanningService({} as WorkflowCatalog, { DEFAULT_STEP_TIMEOUT_MS: 1_000, DEFAULT_MAX_ATTEMPTS: 1 } as AppConfig).snapshot(definition);
const [step] = plan.steps;
if (!step) throw new Error('the test workflow has no step');

/**
 * The transition queue and runner of the engine on a real database, without the rest of the app:
 * effects are recorded instead of carried out. One batch at a time, so that jobs queued together
 * share one.
 */
export class TransitionStand {
  readonly effects: Effect[] = [];
  readonly metrics = new MetricsService();
  readonly queue: TransitionQueue;

  private constructor(readonly dataSource: DataSource) {
    const effectRunner = { run: (list: Effect[]) => Promise.resolve(void this.effects.push(...list)) } as unknown as EffectRunner;
    const retries = new TransitionRetries({ TRANSITION_RETRY_MAX_MS: 30_000 } as AppConfig, this.metrics);
    const runner = new TransitionRunner(new TasksRepository(dataSource, { DB_POOL_SIZE: 6 } as AppConfig), new WorkflowCaches(), effectRunner, this.metrics, retries);
    this.queue = new TransitionQueue(runner, { DB_POOL_SIZE: 3 } as AppConfig);
  }

  static async connect(databaseUrl: string): Promise<TransitionStand> {
    return new TransitionStand(await new DataSource(dataSourceOptions(databaseUrl, 6)).initialize());
  }

  /** Starts a workflow of one step (`apply` runs on it too); returns the step row's id. */
  start(taskId: string, apply: (wf: Workflow) => void = () => undefined): Promise<string> {
    return this.queue.apply(startJob(taskId, apply));
  }

  async close(): Promise<void> {
    await this.dataSource.destroy();
  }
}

function startJob(taskId: string, apply: (wf: Workflow) => void): TransitionJob<string> {
  return {
    target: { kind: 'new', workflow: { request: { task_id: taskId, task_type: 'one', payload: {}, priority: TaskPriority.Normal }, plan, replyTo: null, traceparent: null, depth: 1, fingerprint: null, concurrencyKey: null } },
    apply: (wf) => {
      if (!wf) throw new Error(`${taskId} is taken`);
      const [row] = wf.add([newStepRow(step, 'only', wf.root.id, wf.root.id, wf.root.priority)]);
      apply(wf);
      return Promise.resolve(row?.id ?? '');
    },
  };
}
