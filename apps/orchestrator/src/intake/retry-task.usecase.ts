import { Injectable } from '@nestjs/common';
import { WorkflowEngine } from '../engine/workflow-engine.service.js';
import type { TaskEntity } from '../persistence/task.entity.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { taskIdOf } from './task-ref.js';

export type RetryTaskOutcome =
  | { kind: 'resumed'; root: TaskEntity; steps: string[] }
  | { kind: 'refused'; root: TaskEntity; reason: string }
  | { kind: 'unknown'; taskId: string }
  | { kind: 'rejected'; error: string };

/** Runs a FAILED or CANCELLED task again from its unfinished steps, by its `task_id`, from any transport. */
@Injectable()
export class RetryTaskUseCase {
  constructor(
    private readonly engine: WorkflowEngine,
    private readonly metrics: MetricsService,
  ) {}

  /** `body` is `{ "task_id": ... }`. */
  async execute(body: unknown): Promise<RetryTaskOutcome> {
    const ref = taskIdOf(body, this.metrics);
    if (!ref.ok) return { kind: 'rejected', error: ref.error };
    const result = await this.engine.retry(ref.taskId);
    if (!result) return { kind: 'unknown', taskId: ref.taskId };
    const { outcome, root } = result;
    return outcome.kind === 'resumed' ? { kind: 'resumed', root, steps: outcome.steps } : { kind: 'refused', root, reason: outcome.reason };
  }
}
