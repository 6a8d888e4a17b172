import { BadRequestException, Body, Controller, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ExternalEventReply } from '@orchestrator/contracts';
import { AppConfig } from '../config/app-config.js';
import { ErrorDoc } from '../http/openapi.js';
import { PublishEventUseCase } from './publish-event.usecase.js';
import { apiKeyName } from './sender.js';
import { ExternalEventReplyDoc } from './waiting.docs.js';

/** `POST /events/:name`: the same as publishing on `platform.events.external.<name>`. */
@ApiTags('signals')
@Controller('events')
export class ExternalEventsHttpController {
  private readonly keyName: string | null;

  constructor(
    private readonly publishEvent: PublishEventUseCase,
    config: AppConfig,
  ) {
    this.keyName = apiKeyName(config.API_KEY);
  }

  @Post(':name')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'An external event: resumes every step waiting for it (wait_for: { event }) whose match fields it equals' })
  @ApiBody({ description: 'The event: a JSON object', schema: { type: 'object', additionalProperties: true } })
  @ApiAcceptedResponse({ type: ExternalEventReplyDoc, description: 'How many waiting steps it resumed, and whether it is kept for steps that start later' })
  @ApiBadRequestResponse({ type: ErrorDoc, description: 'The name or the body is wrong, and why' })
  async publish(@Param('name') name: string, @Body() body: unknown): Promise<ExternalEventReply> {
    const answer = await this.publishEvent.execute(name, body, { via: 'http', by: this.keyName });
    if (!answer.ok) throw new BadRequestException({ code: 'INVALID_REQUEST', message: answer.error });
    return answer.reply;
  }
}
