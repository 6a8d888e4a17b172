import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { AGENT_PROGRESS_WILDCARD, agentNameFromProgressSubject, parseProgressReport, storableText } from '@orchestrator/contracts';
import { MetricsService } from '../metrics/metrics.service.js';
import { parseSubtaskWireId } from '../persistence/step-keys.js';
import { InboundMessage } from '../transport/inbound-message.js';
import { AttemptCheck } from './attempt-check.js';
import { ProgressCoalescer } from './progress-coalescer.js';
import { RefusedAnswers } from './refused-answers.js';
import { WorkflowEngine } from './workflow-engine.service.js';

/**
 * Progress agents report inside a sub-task, on `agent.<name>.progress`: `{ task_id, fraction,
 * message? }`. Applied (at most one a second per sub-task and sender) only for the attempt that
 * runs now and only from the agent it was sent to; anything else is dropped or refused, before it
 * takes a place among the sub-tasks the coalescer follows (AttemptCheck): made-up ids cannot
 * crowd out real ones.
 */
@Controller()
export class AgentProgressController {
  private readonly logger = new Logger(AgentProgressController.name);

  constructor(
    private readonly engine: WorkflowEngine,
    private readonly coalescer: ProgressCoalescer,
    private readonly attempts: AttemptCheck,
    private readonly refused: RefusedAnswers,
    private readonly metrics: MetricsService,
  ) {}

  @EventPattern<string>(AGENT_PROGRESS_WILDCARD)
  async onProgress(@Payload() message: InboundMessage): Promise<void> {
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
    const key = `${sender}/${subtaskId}`;
    if (!this.coalescer.isOpen(key) && !(await this.admitted(sender, subtaskId))) return;
    this.coalescer.offer(key, report, (latest) => this.engine.applyProgress(latest));
  }

  /** Whether reports about this attempt may be followed: it runs now, and was sent to `sender`. */
  private async admitted(sender: string, subtaskId: string): Promise<boolean> {
    let attempt;
    try {
      attempt = await this.attempts.of(subtaskId);
    } catch (error) {
      this.metrics.errors.inc({ dependency: 'database' });
      this.logger.warn(`reading the attempt of progress ${subtaskId} failed: ${(error as Error).message}`);
      return false;
    }
    if (attempt.kind !== 'running') {
      this.logger.debug(`dropped progress from ${sender} for ${subtaskId}: ${attempt.kind === 'unknown' ? 'no such sub-task' : 'that attempt is not running'}`);
      return false;
    }
    if (attempt.agent !== sender) {
      this.refused.refuse('sender', sender, `progress for ${subtaskId}, sent to ${attempt.agent ?? 'no agent'}, from ${sender}`);
      return false;
    }
    return true;
  }
}
