import { Injectable } from '@nestjs/common';
import {
  agentResponseSubject,
  completedResponse,
  failedResponse,
  TaskEvent,
  taskEventSubject,
  TaskStatus,
  type TaskResponse,
} from '@orchestrator/contracts';
import type { Plan } from '../planning/plan.js';
import { resolveTemplate, type TemplateContext } from '../planning/template.js';
import { isItemRow, type TaskEntity } from '../persistence/task.entity.js';
import { MessagePublisher } from '../transport/message-publisher.js';

export function templateContext(root: TaskEntity, steps: readonly TaskEntity[]): TemplateContext {
  const results: TemplateContext['steps'] = {};
  for (const step of steps) {
    if (step.status === TaskStatus.Completed && step.step_key && !isItemRow(step)) results[step.step_key] = { result: step.result };
  }
  return {
    request: { task_id: root.task_id, task_type: root.task_type, priority: root.priority, payload: root.payload },
    steps: results,
  };
}

/** Builds a workflow's final result from its steps, and sends the final TaskResponse. */
@Injectable()
export class AggregationService {
  constructor(private readonly publisher: MessagePublisher) {}

  /** Every completed step's result keyed by step id (the items of a `for_each` step are in its result). */
  stepResults(steps: readonly TaskEntity[]): Record<string, unknown> {
    const results: Record<string, unknown> = {};
    for (const step of steps) {
      if (step.status === TaskStatus.Completed && step.step_key && !isItemRow(step)) results[step.step_key] = step.result;
    }
    return results;
  }

  /** `{ output, steps }`: the workflow's declared output and every step's result. Throws when the output cannot be built. */
  finalResult(plan: Plan, root: TaskEntity, steps: readonly TaskEntity[]): Record<string, unknown> {
    const output = plan.output === null ? null : resolveTemplate(plan.output, templateContext(root, steps));
    return { output, steps: this.stepResults(steps) };
  }

  /** What completed before a workflow failed or was cancelled. */
  partialResult(steps: readonly TaskEntity[], failedStep?: TaskEntity): Record<string, unknown> {
    return {
      steps: this.stepResults(steps),
      ...(failedStep ? { failed_step: failedStep.step_key, failed_agent: failedStep.agent_name } : {}),
    };
  }

  responseOf(root: TaskEntity): TaskResponse {
    const completedAt = root.completed_at ? root.completed_at.getTime() / 1000 : null;
    switch (root.status) {
      case TaskStatus.Completed:
        return { ...completedResponse(root.task_id, root.result ?? {}), completed_at: completedAt };
      case TaskStatus.Failed:
      case TaskStatus.Cancelled:
        return { ...failedResponse(root.task_id, root.error ?? 'failed', root.result, root.status), completed_at: completedAt };
      case TaskStatus.Pending:
      case TaskStatus.Running:
        return { task_id: root.task_id, status: root.status, success: false, result: null, error: null, completed_at: null };
    }
  }

  /** Publishes the final response to the reply subject and to the requester, and the lifecycle event. */
  sendFinal(root: TaskEntity): void {
    const response = this.responseOf(root);
    const options = root.trace_parent ? { headers: { traceparent: root.trace_parent } } : {};
    if (root.reply_to) this.publisher.publish(root.reply_to, response, options);
    if (root.requester_id) this.publisher.publish(agentResponseSubject(root.requester_id), response, options);
    this.publisher.publish(taskEventSubject(lifecycleEvent(root.status)), { ...response, task_type: root.task_type }, options);
  }
}

function lifecycleEvent(status: TaskStatus): TaskEvent {
  switch (status) {
    case TaskStatus.Completed:
      return TaskEvent.Completed;
    case TaskStatus.Cancelled:
      return TaskEvent.Cancelled;
    case TaskStatus.Failed:
      return TaskEvent.Failed;
    case TaskStatus.Pending:
    case TaskStatus.Running:
      throw new Error(`a ${status} task has no final response`);
  }
}
