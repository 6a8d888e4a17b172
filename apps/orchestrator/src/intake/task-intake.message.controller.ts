import { Controller, Logger } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  agentResponseSubject,
  failedResponse,
  isAgentName,
  isPlainObject,
  ORCHESTRATOR_CANCEL_SUBJECT,
  ORCHESTRATOR_RERUN_SUBJECT,
  ORCHESTRATOR_RETRY_SUBJECT,
  ORCHESTRATOR_TASK_SUBJECT,
  ORCHESTRATOR_WORKFLOW_SUBJECT,
  type TaskResponse,
} from '@orchestrator/contracts';
import { AggregationService } from '../aggregation/aggregation.service.js';
import { SUBTASK_HEADERS } from '../delegation/delegation.service.js';
import { InboundMessage } from '../transport/inbound-message.js';
import { MessagePublisher } from '../transport/message-publisher.js';
import { CancelTaskUseCase } from './cancel-task.usecase.js';
import { DurableIntakeService } from './durable-intake.service.js';
import { RerunTaskUseCase } from './rerun-task.usecase.js';
import { RetryTaskUseCase } from './retry-task.usecase.js';
import { isControlMiss, type ControlMiss } from './task-ref.js';
import { SubmitTaskUseCase } from './submit-task.usecase.js';

/**
 * `agent.orchestrator_agent.task` over NATS. A request (with a reply subject) gets its final
 * response there later, from whichever replica finishes the workflow; a rejection or a repeated
 * `task_id` is answered at once. A message without a reply subject is answered on
 * `agent.<requester_id>.response`. Under durable intake (DurableIntakeService) the stream's copy of
 * a request on `agent.orchestrator_agent.task` is what runs it.
 */
@Controller()
export class TaskIntakeMessageController {
  private readonly logger = new Logger(TaskIntakeMessageController.name);

  constructor(
    private readonly submitTask: SubmitTaskUseCase,
    private readonly cancelTask: CancelTaskUseCase,
    private readonly retryTask: RetryTaskUseCase,
    private readonly rerunTask: RerunTaskUseCase,
    private readonly aggregation: AggregationService,
    private readonly publisher: MessagePublisher,
    private readonly durableIntake: DurableIntakeService,
  ) {}

  @MessagePattern<string>(ORCHESTRATOR_TASK_SUBJECT)
  onTask(@Payload() message: InboundMessage): Promise<TaskResponse | undefined> {
    // Under durable intake the stream's copy of the request is what runs it.
    if (this.durableIntake.durable) return Promise.resolve(undefined);
    return this.take(message, false);
  }

  /** The sub-task of a `workflow:` step, sent by an orchestrator: starts the child workflow under its id. */
  @MessagePattern<string>(ORCHESTRATOR_WORKFLOW_SUBJECT)
  onChildWorkflow(@Payload() message: InboundMessage): Promise<TaskResponse | undefined> {
    return this.take(message, true);
  }

  private async take(message: InboundMessage, child: boolean): Promise<TaskResponse | undefined> {
    const answer = await this.answerFor(message, child);
    if (answer === undefined || message.reply !== undefined) return answer?.response;
    if (answer.requesterId) this.publisher.publish(agentResponseSubject(answer.requesterId), answer.response);
    else this.logger.warn(`dropped an answer nobody can receive for task ${JSON.stringify(answer.response.task_id)}: ${answer.response.error ?? answer.response.status}`);
    return undefined;
  }

  /** `{ "task_id": ... }` on `agent.orchestrator_agent.cancel`: answered with the task's state. */
  @MessagePattern<string>(ORCHESTRATOR_CANCEL_SUBJECT)
  onCancel(@Payload() message: InboundMessage): Promise<TaskResponse> {
    return this.control(message, (body) => this.cancelTask.execute(body), (outcome) => this.aggregation.responseOf(outcome.root));
  }

  /** `{ "task_id": ... }` on `agent.orchestrator_agent.retry`: answered with the task's state (RUNNING), or FAILED with the reason it cannot be retried. */
  @MessagePattern<string>(ORCHESTRATOR_RETRY_SUBJECT)
  onRetry(@Payload() message: InboundMessage): Promise<TaskResponse> {
    return this.control(message, (body) => this.retryTask.execute(body), (outcome) =>
      outcome.kind === 'refused' ? failedResponse(outcome.root.task_id, outcome.reason) : this.aggregation.responseOf(outcome.root),
    );
  }

  /** `{ "task_id": ... }` on `agent.orchestrator_agent.rerun`: answered with the new task's state (its task_id is the new one), or FAILED with the reason. */
  @MessagePattern<string>(ORCHESTRATOR_RERUN_SUBJECT)
  onRerun(@Payload() message: InboundMessage): Promise<TaskResponse> {
    return this.control(message, (body) => this.rerunTask.execute(body), (outcome) => {
      switch (outcome.kind) {
        case 'refused':
          return failedResponse(outcome.root.task_id, outcome.reason);
        case 'not-started':
          return failedResponse('', outcome.reason);
        case 'started':
          return this.aggregation.responseOf(outcome.root);
      }
    });
  }

  /** A control request (`{ "task_id": ... }`): bad input and unknown tasks answered alike, the rest by `answer`. */
  private async control<O extends { kind: string }>(
    message: InboundMessage,
    execute: (body: unknown) => Promise<O | ControlMiss>,
    answer: (outcome: O) => TaskResponse,
  ): Promise<TaskResponse> {
    if (!message.body.ok) return failedResponse('', message.body.error);
    const outcome = await execute(message.body.value);
    if (!isControlMiss(outcome)) return answer(outcome);
    return outcome.kind === 'rejected' ? failedResponse('', outcome.error) : failedResponse(outcome.taskId, `task_id: no task ${JSON.stringify(outcome.taskId)}`);
  }

  private async answerFor(message: InboundMessage, child: boolean): Promise<{ response: TaskResponse; requesterId: string | null } | undefined> {
    if (!message.body.ok) return { response: failedResponse('', message.body.error), requesterId: null };
    try {
      const outcome = await this.submitTask.execute(message.body.value, {
        replyTo: message.reply,
        traceparent: message.headers['traceparent'],
        child,
        depth: child ? message.headers[SUBTASK_HEADERS.depth.toLowerCase()] : undefined,
        fairnessKey: child ? headerText(message.headers[SUBTASK_HEADERS.fairnessKey.toLowerCase()]) : undefined,
        bytes: message.bytes,
      });
      switch (outcome.kind) {
        case 'accepted':
          return undefined;
        case 'existing':
          return { response: this.aggregation.responseOf(outcome.root), requesterId: outcome.root.requester_id };
        case 'rejected':
          return { response: failedResponse(outcome.taskId, outcome.error), requesterId: outcome.requesterId };
      }
    } catch (error) {
      const body = isPlainObject(message.body.value) ? message.body.value : {};
      const taskId = typeof body['task_id'] === 'string' ? body['task_id'] : '';
      this.logger.error(`accepting task ${taskId} failed: ${(error as Error).message}`);
      return {
        response: failedResponse(taskId, 'the orchestrator could not accept the task right now; submit it again'),
        requesterId: isAgentName(body['requester_id']) ? body['requester_id'] : null,
      };
    }
  }
}

/** A header value the orchestrator encoded (URI component), or undefined when it is absent or not one. */
function headerText(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
