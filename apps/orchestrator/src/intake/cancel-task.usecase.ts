import { Injectable } from '@nestjs/common';
import { isPlainObject, TASK_ID_PATTERN } from '@orchestrator/contracts';
import type { TaskEntity } from '../persistence/task.entity.js';
import { WorkflowEngine } from '../engine/workflow-engine.service.js';

export type CancelOutcome =
  | { kind: 'cancelled'; root: TaskEntity }
  | { kind: 'finished'; root: TaskEntity }
  | { kind: 'unknown'; taskId: string }
  | { kind: 'rejected'; error: string };

/** Cancels a task by its `task_id`, from any transport. */
@Injectable()
export class CancelTaskUseCase {
  constructor(private readonly engine: WorkflowEngine) {}

  /** `body` is `{ "task_id": ... }`. */
  async execute(body: unknown): Promise<CancelOutcome> {
    const taskId = isPlainObject(body) ? body['task_id'] : undefined;
    if (typeof taskId !== 'string' || !TASK_ID_PATTERN.test(taskId)) {
      return { kind: 'rejected', error: 'task_id: is required: a string of 1 to 128 characters without whitespace' };
    }
    const result = await this.engine.cancel(taskId);
    if (!result) return { kind: 'unknown', taskId };
    return { kind: result.cancelled ? 'cancelled' : 'finished', root: result.root };
  }
}
