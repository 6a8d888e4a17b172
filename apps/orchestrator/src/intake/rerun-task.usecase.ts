import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { isTerminalStatus, TASK_ID_PATTERN } from '@orchestrator/contracts';
import type { TaskEntity } from '../persistence/task.entity.js';
import { TasksRepository } from '../persistence/tasks.repository.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { taskIdOf } from './task-ref.js';
import { SubmitTaskUseCase, type RejectionCode } from './submit-task.usecase.js';

export type RerunTaskOutcome =
  | { kind: 'started'; root: TaskEntity; rerunOf: string }
  | { kind: 'refused'; root: TaskEntity; reason: string }
  /** The stored request does not pass as a new one any more (its workflow changed, say), or the intake is full. */
  | { kind: 'not-started'; code: RejectionCode; reason: string }
  | { kind: 'unknown'; taskId: string }
  | { kind: 'rejected'; error: string };

/**
 * Runs a finished task's request again under a new task_id (`<task_id>.rerun-<8 hex>`, or a UUID
 * when that would be too long), through the intake like any new request: planned with the
 * workflow definition of today.
 */
@Injectable()
export class RerunTaskUseCase {
  constructor(
    private readonly tasks: TasksRepository,
    private readonly submitTask: SubmitTaskUseCase,
    private readonly metrics: MetricsService,
  ) {}

  /** `body` is `{ "task_id": ... }`. */
  async execute(body: unknown): Promise<RerunTaskOutcome> {
    const ref = taskIdOf(body, this.metrics);
    if (!ref.ok) return { kind: 'rejected', error: ref.error };
    const root = await this.tasks.findRootByTaskId(ref.taskId);
    if (!root) return { kind: 'unknown', taskId: ref.taskId };
    if (!isTerminalStatus(root.status)) return { kind: 'refused', root, reason: `task ${root.task_id} is ${root.status}: a task runs again once it has finished` };
    const derived = `${root.task_id}.rerun-${randomUUID().slice(0, 8)}`;
    const request = {
      task_id: TASK_ID_PATTERN.test(derived) ? derived : randomUUID(),
      task_type: root.task_type,
      payload: root.payload,
      priority: root.priority,
      ...(root.requester_id ? { requester_id: root.requester_id } : {}),
    };
    const outcome = await this.submitTask.execute(request, { rerunOf: root.task_id });
    switch (outcome.kind) {
      case 'accepted':
      case 'existing':
        return { kind: 'started', root: outcome.root, rerunOf: root.task_id };
      case 'rejected':
        return { kind: 'not-started', code: outcome.code, reason: `the request of task ${root.task_id} cannot run again: ${outcome.error}` };
    }
  }
}
