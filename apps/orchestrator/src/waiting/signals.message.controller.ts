import { Controller, Logger } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ORCHESTRATOR_SIGNAL_SUBJECT, SignalStatus, type SignalReply } from '@orchestrator/contracts';
import { InboundMessage } from '../transport/inbound-message.js';
import { SendSignalUseCase } from './send-signal.usecase.js';

/**
 * `agent.orchestrator_agent.signal`: `{ task_id, signal, payload?, signal_id? }`, answered (to a
 * request) with `{ task_id, signal, status: ACCEPTED | REFUSED, error }`. Who sent it is the
 * body's `requester_id`, when it names one.
 */
@Controller()
export class SignalsMessageController {
  private readonly logger = new Logger(SignalsMessageController.name);

  constructor(private readonly sendSignal: SendSignalUseCase) {}

  @MessagePattern<string>(ORCHESTRATOR_SIGNAL_SUBJECT)
  async onSignal(@Payload() message: InboundMessage): Promise<SignalReply | undefined> {
    const { reply } = message.body.ok
      ? await this.sendSignal.execute(message.body.value, 'nats')
      : { reply: { task_id: '', signal: '', status: SignalStatus.Refused, error: message.body.error, code: 'INVALID_REQUEST' } };
    if (message.reply !== undefined) return reply;
    if (reply.status === SignalStatus.Refused) this.logger.warn(`refused a signal ${reply.signal} for task ${reply.task_id} published without a reply subject: ${reply.error ?? ''}`);
    return undefined;
  }
}
