import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { AGENT_HEARTBEAT_SUBJECT, AGENT_REGISTERED_SUBJECT, validateAgentAnnouncement } from '@orchestrator/contracts';
import { InboundMessage } from '../transport/inbound-message.js';
import { AgentRegistryService } from './agent-registry.service.js';

@Controller()
export class AgentAnnouncementsMessageController {
  private readonly logger = new Logger(AgentAnnouncementsMessageController.name);

  constructor(private readonly registry: AgentRegistryService) {}

  @EventPattern<string>(AGENT_REGISTERED_SUBJECT)
  onRegistered(@Payload() message: InboundMessage): Promise<void> {
    return this.record(message);
  }

  @EventPattern<string>(AGENT_HEARTBEAT_SUBJECT)
  onHeartbeat(@Payload() message: InboundMessage): Promise<void> {
    return this.record(message);
  }

  private async record(message: InboundMessage): Promise<void> {
    const announcement = message.body.ok ? validateAgentAnnouncement(message.body.value) : message.body;
    if (!announcement.ok) {
      this.logger.warn(`ignored an announcement on ${message.subject}: ${announcement.error}`);
      return;
    }
    try {
      await this.registry.record(announcement.value);
    } catch (error) {
      this.logger.warn(`could not record agent ${announcement.value.name}: ${(error as Error).message}`);
    }
  }
}
