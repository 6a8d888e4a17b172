import { BadRequestException, Body, ConflictException, Controller, Headers, HttpCode, HttpStatus, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiBody, ApiConflictResponse, ApiHeader, ApiNotFoundResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { SignalReply } from '@orchestrator/contracts';
import { AppConfig } from '../config/app-config.js';
import { ErrorDoc } from '../http/openapi.js';
import { SendSignalUseCase } from './send-signal.usecase.js';
import { apiKeyName } from './sender.js';
import { SignalReplyDoc } from './waiting.docs.js';

/** `POST /tasks/:task_id/signals/:signal`: the same use case as `agent.orchestrator_agent.signal`, the body being the payload. */
@ApiTags('signals')
@Controller('tasks')
export class SignalsHttpController {
  private readonly keyName: string | null;

  constructor(
    private readonly sendSignal: SendSignalUseCase,
    config: AppConfig,
  ) {
    this.keyName = apiKeyName(config.API_KEY);
  }

  /** 202 once taken or kept; 400 naming the field; 404 for an unknown task; 409 for a finished one or when no step will take it. */
  @Post(':taskId/signals/:signal')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: "A signal for a workflow's step waiting for it (wait_for: { signal }); one that comes before its step is kept for it" })
  @ApiBody({ description: "The signal's payload (a JSON object, checked against the step's payload fields)", schema: { type: 'object', additionalProperties: true }, required: false })
  @ApiQuery({ name: 'signal_id', required: false, description: 'Makes a repeat recognisable: taken once per workflow (the Idempotency-Key header says the same)' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'The signal_id' })
  @ApiAcceptedResponse({ type: SignalReplyDoc, description: 'Taken by the waiting step, kept for the step that will wait, or a repeat of a signal_id (duplicate: true)' })
  @ApiBadRequestResponse({ type: ErrorDoc, description: 'The field that is wrong and why (payload.<field> against the step, or the signal name)' })
  @ApiNotFoundResponse({ type: ErrorDoc, description: 'No such task' })
  @ApiConflictResponse({ type: ErrorDoc, description: 'The task has finished, or no step of it waits (or will wait) for this signal' })
  async signal(
    @Param('taskId') taskId: string,
    @Param('signal') signal: string,
    @Body() payload: unknown,
    @Query('signal_id') signalId: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<SignalReply> {
    const id = signalId ?? idempotencyKey;
    const { reply, refusal } = await this.sendSignal.execute(
      { task_id: taskId, signal, payload: payload ?? {}, ...(id === undefined ? {} : { signal_id: id }) },
      'http',
      this.keyName,
    );
    const body = { code: refusal ?? '', message: reply.error ?? '', task_id: taskId };
    switch (refusal) {
      case null:
        return reply;
      case 'INVALID_REQUEST':
      case 'INVALID_PAYLOAD':
        throw new BadRequestException(body);
      case 'TASK_NOT_FOUND':
        throw new NotFoundException(body);
      case 'TASK_FINISHED':
      case 'NO_WAITING_STEP':
        throw new ConflictException(body);
    }
  }
}
