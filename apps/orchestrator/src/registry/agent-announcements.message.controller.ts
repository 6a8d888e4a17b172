import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  AGENT_HEARTBEAT_SUBJECT,
  AGENT_HEARTBEAT_WILDCARD,
  AGENT_REGISTERED_SUBJECT,
  AGENT_REGISTERED_WILDCARD,
  agentNameFromAnnouncementSubject,
  validateAgentAnnouncement,
  type AgentAnnouncement,
} from '@orchestrator/contracts';
import { AppConfig } from '../config/app-config.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { InboundMessage } from '../transport/inbound-message.js';
import { AgentRegistryService } from './agent-registry.service.js';

type Refusal = 'invalid' | 'subject' | 'shared' | 'capacity';

/**
 * Announcements of agents. On an agent's own subjects (`platform.events.agent.<name>.registered`,
 * `.heartbeat`), which a permissions file grants to that agent alone, the announcement must be
 * under that name: an agent speaks only for itself. The shared subjects take any name (trusting:
 * for agents without NATS authentication) unless AGENT_SHARED_ANNOUNCEMENTS is off. The capacity
 * announced is capped at AGENT_MAX_CONCURRENCY.
 */
@Controller()
export class AgentAnnouncementsMessageController {
  private readonly logger = new Logger(AgentAnnouncementsMessageController.name);
  /** Refusals of one kind are logged once a minute: a client sending bad announcements in a loop must not fill the log. */
  private readonly log = new ThrottledLog(this.logger, 10);

  constructor(
    private readonly registry: AgentRegistryService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  @EventPattern<string>(AGENT_REGISTERED_WILDCARD)
  onOwnRegistered(@Payload() message: InboundMessage): Promise<void> {
    return this.record(message, agentNameFromAnnouncementSubject(message.subject) ?? '');
  }

  @EventPattern<string>(AGENT_HEARTBEAT_WILDCARD)
  onOwnHeartbeat(@Payload() message: InboundMessage): Promise<void> {
    return this.record(message, agentNameFromAnnouncementSubject(message.subject) ?? '');
  }

  @EventPattern<string>(AGENT_REGISTERED_SUBJECT)
  onRegistered(@Payload() message: InboundMessage): Promise<void> {
    return this.record(message, null);
  }

  @EventPattern<string>(AGENT_HEARTBEAT_SUBJECT)
  onHeartbeat(@Payload() message: InboundMessage): Promise<void> {
    return this.record(message, null);
  }

  /** `owner`: the name in the subject it came on; null on the shared subjects. */
  private async record(message: InboundMessage, owner: string | null): Promise<void> {
    if (owner === null && this.config.AGENT_SHARED_ANNOUNCEMENTS === 'off') {
      this.refuse('shared', `an announcement on ${message.subject}: AGENT_SHARED_ANNOUNCEMENTS is off; agents announce on platform.events.agent.<name>.*`);
      return;
    }
    const validated = message.body.ok ? validateAgentAnnouncement(message.body.value) : message.body;
    if (!validated.ok) {
      this.refuse('invalid', `an announcement on ${message.subject}: ${validated.error}`);
      return;
    }
    if (owner !== null && validated.value.name !== owner) {
      this.refuse('subject', `an announcement of ${validated.value.name} on ${message.subject}: an agent announces only under its own name`);
      return;
    }
    const announcement = this.capped(validated.value);
    try {
      const evicted = await this.registry.record(announcement);
      if (evicted) {
        this.metrics.instancesEvicted.inc({ reason: evicted.reason }, evicted.members.length);
        this.log.warn(`evicted/${evicted.reason}`, `dropped ${evicted.members.join(', ')} from the registry to make room for ${announcement.name}/${announcement.instance_id} (${evicted.reason}; further ones are counted, not logged, for a minute)`);
      }
    } catch (error) {
      this.logger.warn(`could not record agent ${announcement.name}: ${(error as Error).message}`);
    }
  }

  private capped(announcement: AgentAnnouncement): AgentAnnouncement {
    const ceiling = this.config.AGENT_MAX_CONCURRENCY;
    const load = announcement.load;
    if (!load || load.max_concurrency <= ceiling) return announcement;
    this.refuse('capacity', `max_concurrency ${load.max_concurrency} of ${announcement.name}/${announcement.instance_id}: taken as ${ceiling} (AGENT_MAX_CONCURRENCY)`);
    return { ...announcement, load: { ...load, max_concurrency: ceiling } };
  }

  private refuse(reason: Refusal, what: string): void {
    this.metrics.announcementsRefused.inc({ reason });
    this.log.warn(reason, `refused ${what} (further refusals of this kind are counted, not logged, for a minute)`);
  }
}
