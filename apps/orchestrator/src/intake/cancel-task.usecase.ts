import { Injectable } from '@nestjs/common';
import type { TaskEntity } from '../persistence/task.entity.js';
import { WorkflowEngine } from '../engine/workflow-engine.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { taskIdOf } from './task-ref.js';

export type CancelOutcome =
  | { kind: 'cancelled'; root: TaskEntity }
  | { kind: 'finished'; root: TaskEntity }
  | { kind: 'unknown'; taskId: string }
  | { kind: 'rejected'; error: string };

/** Cancels a task by its `task_id`, from any transport. */
@Injectable()
export class CancelTaskUseCase {
  constructor(
    private readonly engine: WorkflowEngine,
    private readonly metrics: MetricsService,
  ) {}

  /** `body` is `{ "task_id": ... }`; `child`: an orchestrator cancels a child workflow, by its sub-task's id. */
  async execute(body: unknown, child = false): Promise<CancelOutcome> {
    const ref = taskIdOf(body, this.metrics, child);
    if (!ref.ok) return { kind: 'rejected', error: ref.error };
    const { taskId } = ref;
    const result = await this.engine.cancel(taskId);
    if (!result) return { kind: 'unknown', taskId };
    return { kind: result.cancelled ? 'cancelled' : 'finished', root: result.root };
  }
}
