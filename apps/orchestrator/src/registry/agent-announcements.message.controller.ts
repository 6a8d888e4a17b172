import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { AGENT_HEARTBEAT_SUBJECT, AGENT_REGISTERED_SUBJECT, validateAgentAnnouncement } from '@orchestrator/contracts';
import { ThrottledLog } from '../logging/throttled-log.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { InboundMessage } from '../transport/inbound-message.js';
import { AgentRegistryService } from './agent-registry.service.js';

@Controller()
export class AgentAnnouncementsMessageController {
  private readonly logger = new Logger(AgentAnnouncementsMessageController.name);
  /** Refusals of one kind are logged once a minute: a client sending bad announcements in a loop must not fill the log. */
  private readonly log = new ThrottledLog(this.logger, 10);

  constructor(
    private readonly registry: AgentRegistryService,
    private readonly metrics: MetricsService,
  ) {}

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
      this.refuse('invalid', `an announcement on ${message.subject}: ${announcement.error}`);
      return;
    }
    try {
      const refused = await this.registry.record(announcement.value);
      if (refused === 'names') this.refuse(refused, `agent ${announcement.value.name}: AGENT_NAMES_MAX names are known already`);
      if (refused === 'instances') this.refuse(refused, `instance ${announcement.value.instance_id} of ${announcement.value.name}: AGENT_INSTANCES_MAX instances are known already`);
    } catch (error) {
      this.logger.warn(`could not record agent ${announcement.value.name}: ${(error as Error).message}`);
    }
  }

  private refuse(reason: 'invalid' | 'names' | 'instances', what: string): void {
    this.metrics.announcementsRefused.inc({ reason });
    this.log.warn(reason, `refused ${what} (further refusals of this kind are counted, not logged, for a minute)`);
  }
}
