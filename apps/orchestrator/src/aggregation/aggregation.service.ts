import { Injectable } from '@nestjs/common';
import {
  agentResponseSubject,
  completedResponse,
  failedResponse,
  TaskEvent,
  taskEventSubject,
  TaskStatus,
  type TaskResponse,
  type Usage,
} from '@orchestrator/contracts';
import { encodeJson, MessagePublisher } from '../transport/message-publisher.js';

/** What a final response is made of: a workflow's root row, finished. */
export interface FinishedRoot {
  task_id: string;
  task_type: string;
  status: TaskStatus;
  result?: Record<string, unknown> | null;
  error: string | null;
  completed_at: Date | null;
  reply_to: string | null;
  requester_id: string | null;
  trace_parent: string | null;
  /** What its steps reported they cost, child workflows included. */
  usage?: Usage | null;
}

/** Builds the TaskResponse of a workflow and sends the final one. */
@Injectable()
export class AggregationService {
  constructor(private readonly publisher: MessagePublisher) {}

  /**
   * The response to a task's requester. A result too large for one message keeps its status and
   * loses the per-step results (the output stays), with a note of where the whole result is.
   */
  responseOf(root: FinishedRoot): TaskResponse {
    const completedAt = root.completed_at ? root.completed_at.getTime() / 1000 : null;
    const usage = root.usage ? { usage: root.usage } : {};
    switch (root.status) {
      case TaskStatus.Completed:
        return this.fitted({ ...completedResponse(root.task_id, root.result ?? {}), completed_at: completedAt, ...usage });
      case TaskStatus.Failed:
      case TaskStatus.Cancelled:
        return this.fitted({ ...failedResponse(root.task_id, root.error ?? 'failed', root.result ?? null, root.status), completed_at: completedAt, ...usage });
      case TaskStatus.Pending:
      case TaskStatus.Queued:
      case TaskStatus.Running:
      case TaskStatus.Waiting:
        return { task_id: root.task_id, status: root.status, success: false, result: null, error: null, completed_at: null };
    }
  }

  private fitted(response: TaskResponse): TaskResponse {
    const limit = this.publisher.maxBody;
    const bytes = encodeJson(response).length;
    if (bytes <= limit || response.result === null) return response;
    const { steps: _steps, ...rest } = response.result;
    return {
      ...response,
      result: {
        ...rest,
        truncated: `the whole result is ${bytes} bytes, over the ${limit} bytes a message may carry: the results of the steps are left out here; GET /tasks/${encodeURIComponent(response.task_id)} has them`,
      },
    };
  }

  /** Publishes the final response to the reply subject and to the requester, and the lifecycle event. */
  sendFinal(root: FinishedRoot): void {
    const response = this.responseOf(root);
    const options = root.trace_parent ? { headers: { traceparent: root.trace_parent } } : {};
    const data = encodeJson(response);
    if (root.reply_to) this.publisher.publish(root.reply_to, data, options);
    if (root.requester_id) this.publisher.publish(agentResponseSubject(root.requester_id), data, options);
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
    case TaskStatus.Queued:
    case TaskStatus.Running:
    case TaskStatus.Waiting:
      throw new Error(`a ${status} task has no final response`);
  }
}
