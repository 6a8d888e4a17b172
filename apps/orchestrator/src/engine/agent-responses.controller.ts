import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { AGENT_RESPONSE_WILDCARD, ORCHESTRATOR_REPLY_WILDCARD, parseTaskResponse } from '@orchestrator/contracts';
import { MetricsService } from '../metrics/metrics.service.js';
import { InboundMessage } from '../transport/inbound-message.js';
import { WorkflowEngine } from './workflow-engine.service.js';

/** Agents' answers to sub-tasks: replies to the shared reply subject, or publishes on `agent.<name>.response`. */
@Controller()
export class AgentResponsesController {
  private readonly logger = new Logger(AgentResponsesController.name);

  constructor(
    private readonly engine: WorkflowEngine,
    private readonly metrics: MetricsService,
  ) {}

  @EventPattern<string>(ORCHESTRATOR_REPLY_WILDCARD)
  onReply(@Payload() message: InboundMessage): Promise<void> {
    return this.apply(message);
  }

  @EventPattern<string>(AGENT_RESPONSE_WILDCARD)
  onResponse(@Payload() message: InboundMessage): Promise<void> {
    return this.apply(message);
  }

  private async apply(message: InboundMessage): Promise<void> {
    if (!message.body.ok) {
      this.logger.warn(`dropped a response on ${message.subject}: ${message.body.error}`);
      return;
    }
    const response = parseTaskResponse(message.body.value);
    if (!response.ok) {
      this.logger.warn(`dropped a response on ${message.subject}: ${response.error}`);
      return;
    }
    try {
      await this.engine.applyResponse(response.value, message.subject);
    } catch (error) {
      this.metrics.errors.inc({ dependency: 'database' });
      // Not applied: the step's deadline brings it round again.
      this.logger.error(`applying response ${response.value.task_id} failed: ${(error as Error).message}`);
    }
  }
}
