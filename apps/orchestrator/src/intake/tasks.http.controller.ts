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
} from '@nestjs/swagger';
import type { CancelTaskReply, SubmitTaskReply } from '@orchestrator/contracts';
import { ErrorDoc, SubmitTaskReplyDoc, TaskRequestDoc } from '../http/openapi.js';
import { CancelTaskUseCase } from './cancel-task.usecase.js';
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
  ) {}

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
        throw new BadRequestException({ code: 'INVALID_REQUEST', message: outcome.error });
      case 'unknown':
        throw new NotFoundException({ code: 'TASK_NOT_FOUND', message: `no task with task_id ${JSON.stringify(taskId)}` });
      case 'finished':
        throw new ConflictException({
          code: 'TASK_FINISHED',
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
  async submit(
    @Body() body: unknown,
    @Headers('traceparent') traceparent: string | undefined,
    @Headers('content-length') length: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubmitTaskReply> {
    const outcome = await this.submitTask.execute(body, { traceparent, bytes: Number(length ?? 0) });
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
    const taskId = outcome.root.task_id;
    return { task_id: taskId, status: outcome.root.status, links: { self: `/tasks/${encodeURIComponent(taskId)}` } };
  }
}
