import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EXTERNAL_EVENT_WILDCARD, eventNameFromSubject } from '@orchestrator/contracts';
import { InboundMessage } from '../transport/inbound-message.js';
import { PublishEventUseCase } from './publish-event.usecase.js';

/**
 * `platform.events.external.<name>` (plain JSON, one replica of the queue group takes each): the
 * event resumes every step waiting for `<name>` whose `match` its fields equal. A request is
 * answered with `{ event, resumed, kept }`.
 */
@Controller()
export class ExternalEventsMessageController {
  private readonly logger = new Logger(ExternalEventsMessageController.name);

  constructor(private readonly publishEvent: PublishEventUseCase) {}

  @EventPattern<string>(EXTERNAL_EVENT_WILDCARD)
  async onEvent(@Payload() message: InboundMessage): Promise<unknown> {
    const name = eventNameFromSubject(message.subject) ?? '';
    const answer = message.body.ok ? await this.publishEvent.execute(name, message.body.value, { via: 'nats', by: null }) : { ok: false as const, error: message.body.error };
    if (!answer.ok) this.logger.warn(`dropped an event on ${message.subject}: ${answer.error}`);
    if (message.reply === undefined) return undefined;
    return answer.ok ? answer.reply : { event: name, resumed: 0, kept: false, error: answer.error };
  }
}
