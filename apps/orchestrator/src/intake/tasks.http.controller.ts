import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Headers,
  HttpCode,
  HttpStatus,
  NotFoundException,
  ServiceUnavailableException,
  Param,
  Post,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import { ErrorCode, isPlainObject, type CancelTaskReply, type SubmitTaskReply } from '@orchestrator/contracts';
import { ErrorDoc, RetryTaskDoc, SubmitTaskReplyDoc, TaskRequestDoc } from '../http/openapi.js';
import { CancelTaskUseCase } from './cancel-task.usecase.js';
import { RerunTaskUseCase } from './rerun-task.usecase.js';
import { RetryTaskUseCase } from './retry-task.usecase.js';
import type { ControlMiss } from './task-ref.js';
import type { Response } from 'express';
import { SubmitTaskUseCase } from './submit-task.usecase.js';

export type { SubmitTaskReply } from '@orchestrator/contracts';

/** `POST /tasks`: the same use case as the NATS intake, for the API gateway. */
@ApiTags('tasks')
@Controller('tasks')
export class TasksHttpController {
  constructor(
    private readonly submitTask: SubmitTaskUseCase,
    private readonly cancelTask: CancelTaskUseCase,
    private readonly retryTask: RetryTaskUseCase,
    private readonly rerunTask: RerunTaskUseCase,
  ) {}

  /** 200 once resumed; 409 when the task is not FAILED or CANCELLED (or, from a step, still runs); 404 when there is no such task. */
  @Post(':taskId/retry')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Run a FAILED or CANCELLED task again from its unfinished steps (completed steps keep their results)',
    description:
      'With `from_step`, that step and every step downstream of it run again too, with fresh attempts, a COMPLETED task included; ' +
      'the steps upstream keep their results. With `input` too, the step is sent that input instead of the one it had (recorded in the history).',
  })
  @ApiBody({ type: RetryTaskDoc, required: false })
  @ApiOkResponse({ type: SubmitTaskReplyDoc, description: 'Running again; the requester gets a new final response' })
  @ApiBadRequestResponse({ type: ErrorDoc, description: 'from_step names no step of the task, or input cannot be used' })
  @ApiNotFoundResponse({ type: ErrorDoc, description: 'No such task' })
  @ApiConflictResponse({ type: ErrorDoc, description: 'The task is running, or completed and no step is named' })
  async retry(@Param('taskId') taskId: string, @Body() body: unknown): Promise<SubmitTaskReply> {
    const options = isPlainObject(body) ? body : {};
    const outcome = await this.retryTask.execute({ ...options, task_id: taskId });
    switch (outcome.kind) {
      case 'rejected':
      case 'unknown':
        throw controlMiss(outcome);
      case 'refused':
        throw new ConflictException({ code: ErrorCode.TaskNotRetryable, message: outcome.reason, status: outcome.root.status });
      case 'resumed':
        return reply(outcome.root);
    }
  }

  /** 202 with the new task_id; 409 while the task runs; 404 when there is no such task. */
  @Post(':taskId/rerun')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: "Run a finished task's request again under a new task_id (returned)" })
  @ApiAcceptedResponse({ type: SubmitTaskReplyDoc, description: 'The new task, running' })
  @ApiNotFoundResponse({ type: ErrorDoc, description: 'No such task' })
  @ApiConflictResponse({ type: ErrorDoc, description: 'The task still runs, or its request cannot run again' })
  @ApiServiceUnavailableResponse({ type: ErrorDoc, description: 'Overloaded: submit it again (Retry-After)' })
  async rerun(@Param('taskId') taskId: string, @Res({ passthrough: true }) res: Response): Promise<SubmitTaskReply & { rerun_of: string }> {
    const outcome = await this.rerunTask.execute({ task_id: taskId });
    switch (outcome.kind) {
      case 'rejected':
      case 'unknown':
        throw controlMiss(outcome);
      case 'refused':
        throw new ConflictException({ code: ErrorCode.TaskRunning, message: outcome.reason, status: outcome.root.status });
      case 'not-started':
        if (outcome.code === 'OVERLOADED') {
          res.setHeader('Retry-After', '1');
          throw new ServiceUnavailableException({ code: outcome.code, message: outcome.reason });
        }
        throw new ConflictException({ code: outcome.code, message: outcome.reason });
      case 'started':
        return { ...reply(outcome.root), rerun_of: outcome.rerunOf };
    }
  }

  /** 200 once cancelled; 409 when the task had already finished; 404 when there is no such task. */
  @Post(':taskId/cancel')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Cancel a running task' })
  @ApiOkResponse({ type: SubmitTaskReplyDoc, description: 'Cancelled' })
  @ApiNotFoundResponse({ type: ErrorDoc, description: 'No such task' })
  @ApiConflictResponse({ type: ErrorDoc, description: 'The task had already finished' })
  async cancel(@Param('taskId') taskId: string): Promise<CancelTaskReply> {
    const outcome = await this.cancelTask.execute({ task_id: taskId });
    switch (outcome.kind) {
      case 'rejected':
      case 'unknown':
        throw controlMiss(outcome);
      case 'finished':
        throw new ConflictException({
          code: ErrorCode.TaskFinished,
          message: `task ${taskId} has already finished as ${outcome.root.status}`,
          status: outcome.root.status,
        });
      case 'cancelled':
        return { task_id: outcome.root.task_id, status: outcome.root.status };
    }
  }

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Submit a TaskRequest (the same as a request on agent.orchestrator_agent.task)' })
  @ApiBody({ type: TaskRequestDoc })
  @ApiAcceptedResponse({ type: SubmitTaskReplyDoc, description: 'Accepted: its workflow is running' })
  @ApiOkResponse({ type: SubmitTaskReplyDoc, description: 'A task with this task_id exists: its state' })
  @ApiBadRequestResponse({ type: ErrorDoc, description: 'The field that is wrong and why' })
  @ApiConflictResponse({ type: ErrorDoc, description: 'The task_id is in use by a different request' })
  @ApiServiceUnavailableResponse({ type: ErrorDoc, description: 'Overloaded: too many requests wait already; submit it again (Retry-After)' })
  @ApiUnsupportedMediaTypeResponse({ type: ErrorDoc, description: 'The body is not sent as JSON (Content-Type: application/json)' })
  async submit(@Body() body: unknown, @Headers() headers: Record<string, string | undefined>, @Res({ passthrough: true }) res: Response): Promise<SubmitTaskReply> {
    const outcome = await this.submitTask.execute(body, { traceparent: headers['traceparent'], bytes: Number(headers['content-length'] ?? 0) });
    switch (outcome.kind) {
      case 'rejected':
        if (outcome.code === 'TASK_ID_CONFLICT') throw new ConflictException({ code: outcome.code, message: outcome.error, task_id: outcome.taskId });
        if (outcome.code === 'OVERLOADED') {
          res.setHeader('Retry-After', '1');
          throw new ServiceUnavailableException({ code: outcome.code, message: outcome.error, task_id: outcome.taskId });
        }
        throw new BadRequestException({ code: outcome.code, message: outcome.error, task_id: outcome.taskId });
      case 'existing':
        res.status(HttpStatus.OK);
        break;
      case 'accepted':
        break;
    }
    return reply(outcome.root);
  }
}

function reply(root: { task_id: string; status: string }): SubmitTaskReply {
  return { task_id: root.task_id, status: root.status, links: { self: `/tasks/${encodeURIComponent(root.task_id)}` } };
}

/** Bad input (400) or no such task (404), for every control route. */
function controlMiss(outcome: ControlMiss): BadRequestException | NotFoundException {
  return outcome.kind === 'rejected'
    ? new BadRequestException({ code: ErrorCode.InvalidRequest, message: outcome.error })
    : new NotFoundException({ code: ErrorCode.TaskNotFound, message: `no task with task_id ${JSON.stringify(outcome.taskId)}` });
}
