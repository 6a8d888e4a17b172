import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { AGENT_PROGRESS_WILDCARD, agentNameFromProgressSubject, parseProgressReport, storableText } from '@orchestrator/contracts';
import { parseSubtaskWireId } from '../persistence/step-keys.js';
import { InboundMessage } from '../transport/inbound-message.js';
import { ProgressCoalescer } from './progress-coalescer.js';
import { WorkflowEngine } from './workflow-engine.service.js';

/**
 * Progress agents report inside a sub-task, on `agent.<name>.progress`: `{ task_id, fraction,
 * message? }`. Applied (at most one a second per sub-task and sender) only for the attempt that
 * runs now and only from the agent it was sent to; anything else is dropped or refused.
 */
@Controller()
export class AgentProgressController {
  private readonly logger = new Logger(AgentProgressController.name);

  constructor(
    private readonly engine: WorkflowEngine,
    private readonly coalescer: ProgressCoalescer,
  ) {}

  @EventPattern<string>(AGENT_PROGRESS_WILDCARD)
  onProgress(@Payload() message: InboundMessage): void {
    const sender = agentNameFromProgressSubject(message.subject);
    if (!sender || !message.body.ok) return;
    const parsed = parseProgressReport(message.body.value);
    if (!parsed.ok) {
      this.logger.debug(`dropped progress on ${message.subject}: ${parsed.error}`);
      return;
    }
    const { task_id: subtaskId, fraction, message: text } = parsed.value;
    const ref = parseSubtaskWireId(subtaskId);
    if (!ref) {
      this.logger.debug(`dropped progress on ${message.subject} for ${JSON.stringify(subtaskId)}: not a sub-task id`);
      return;
    }
    const report = { rowId: ref.rowId, attempt: ref.attempt, sender, subtaskId, fraction, message: text === undefined ? null : storableText(text) };
    this.coalescer.offer(`${sender}/${subtaskId}`, report, (latest) => this.engine.applyProgress(latest));
  }
}
