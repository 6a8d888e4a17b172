import { Controller, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  AGENT_RESPONSE_WILDCARD,
  agentNameFromResponseSubject,
  failedResponse,
  isTerminalStatus,
  jsonValueProblem,
  ORCHESTRATOR_REPLY_PREFIX,
  ORCHESTRATOR_REPLY_WILDCARD,
  parseTaskResponse,
  storableText,
  TaskStatus,
  type TaskResponse,
} from '@orchestrator/contracts';
import { AppConfig } from '../config/app-config.js';
import { ReplyTokens } from '../delegation/reply-tokens.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { BoundedTurn } from '../transport/bounded-turn.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { InboundMessage, parseBody } from '../transport/inbound-message.js';
import { AttemptCheck, type AttemptState } from './attempt-check.js';
import { AnswerOverflow } from './answer-overflow.js';
import { RefusedAnswers } from './refused-answers.js';
import { WorkflowEngine } from './workflow-engine.service.js';

/** The longest error text of an answer that is kept. */
const MAX_ERROR_CHARS = 10_000;

/**
 * Agents' answers to sub-tasks: replies to the shared reply subject, or publishes on
 * `agent.<name>.response`. An answer counts only from where the attempt it names was sent: on
 * the reply subject of that very sub-task, or from the agent it was sent to (checked against the
 * attempt by the engine). What the platform cannot store or forward is refused here, where it
 * arrives: an answer over the size limit, or whose result holds a NUL character, an unpaired
 * surrogate or nesting past MAX_JSON_DEPTH, or whose `usage` is not one (a negative or non-number
 * count), counts as a failed attempt (`answer rejected: …`), retried like any other. Answers wait
 * in a bounded inbox: one that finds it full is kept under durable intake in a JetStream stream
 * until the inbox has room (AnswerOverflow); otherwise it is dropped and counted, and its attempt is
 * retried after its timeout, as if it had been lost on the way. An answer that is malformed, or
 * names an attempt that is not running (AttemptCheck), is dropped before any transition, counted,
 * and logged at most once a minute per sender.
 */
@Controller()
export class AgentResponsesController implements OnApplicationBootstrap {
  private readonly logger = new Logger(AgentResponsesController.name);
  private readonly dropped = new ThrottledLog(this.logger, 10_000);
  private readonly inbox: BoundedTurn;

  constructor(
    private readonly engine: WorkflowEngine,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly refused: RefusedAnswers,
    private readonly replies: ReplyTokens,
    private readonly attempts: AttemptCheck,
    private readonly overflow: AnswerOverflow,
  ) {
    this.inbox = new BoundedTurn(config.ANSWER_INBOX_CONCURRENCY, config.ANSWER_INBOX_MAX, config.ANSWER_INBOX_MAX_BYTES);
  }

  /** Answers kept while the inbox was full come back through here, each waiting its turn, their reply subjects checked again. */
  onApplicationBootstrap(): void {
    this.overflow.start((message) =>
      message.subject.startsWith(`${ORCHESTRATOR_REPLY_PREFIX}.`)
        ? this.applyReply(message, true)
        : this.apply(message, { agent: agentNameFromResponseSubject(message.subject) ?? '' }, true),
    );
  }

  /** On the reply subject of one sub-task, signed by an orchestrator: counts only for that sub-task. */
  @EventPattern<string>(ORCHESTRATOR_REPLY_WILDCARD)
  onReply(@Payload() message: InboundMessage): Promise<void> {
    return this.applyReply(message);
  }

  private applyReply(message: InboundMessage, kept = false): Promise<void> {
    const signed = this.replies.verify(message.subject);
    if (!signed) {
      // Refused before anything else is read: a reply subject no orchestrator made costs nothing more.
      this.refused.refuse('reply_token', 'reply', `an answer on ${message.subject}: no orchestrator made that reply subject`);
      return Promise.resolve();
    }
    return this.apply(message, { replyTo: signed.subtaskId }, kept);
  }

  /** On `agent.<name>.response`: counts only for an attempt that was sent to that agent. */
  @EventPattern<string>(AGENT_RESPONSE_WILDCARD)
  onResponse(@Payload() message: InboundMessage): Promise<void> {
    return this.apply(message, { agent: agentNameFromResponseSubject(message.subject) ?? '' });
  }

  private async apply(message: InboundMessage, sender: { replyTo: string } | { agent: string }, kept = false): Promise<void> {
    const taken = this.inbox.run(message.bytes, () => this.take(message, sender), kept);
    if (taken !== 'full') return taken;
    if (await this.overflow.keep(message)) return;
    this.refused.refuse('inbox_full', 'inbox', `an answer on ${message.subject}: the inbox is full`);
  }

  private async take(message: InboundMessage, sender: { replyTo: string } | { agent: string }): Promise<void> {
    const oversized = message.bytes > this.config.MAX_MESSAGE_BYTES;
    // What arrived is bounded by the server's max_payload: read enough of it to name the sub-task.
    const body = oversized ? parseBody(message.raw, Number.MAX_SAFE_INTEGER) : message.body;
    const from = 'agent' in sender ? sender.agent : 'reply';
    const parsed = body.ok ? parseTaskResponse(body.value) : body;
    if (!parsed.ok) {
      this.drop(from, `a response on ${message.subject}: ${parsed.error}`);
      return;
    }
    if ('replyTo' in sender && sender.replyTo !== parsed.value.task_id) {
      this.refused.refuse('reply_subject', message.subject, `an answer for ${parsed.value.task_id} on ${message.subject}, the reply subject of another sub-task`);
      return;
    }
    let attempt: AttemptState | null;
    try {
      attempt = await this.attempts.of(parsed.value.task_id);
    } catch (error) {
      this.metrics.errors.inc({ dependency: 'database' });
      // The database's own trouble never costs an answer: its transition, retried until the
      // database is back, checks the attempt and its sender under the workflow's lock.
      this.logger.warn(`reading the attempt of response ${parsed.value.task_id} failed (${(error as Error).message}); its transition checks it`);
      attempt = null;
    }
    if (attempt && attempt.kind !== 'running') {
      this.drop(from, `a ${parsed.value.status} response on ${message.subject} for ${parsed.value.task_id}: ${attempt.kind === 'unknown' ? 'no such sub-task' : 'that attempt is not running (late or duplicate)'}`);
      return;
    }
    if (attempt && 'agent' in sender && attempt.agent !== sender.agent) {
      this.refused.refuse('sender', sender.agent, `an answer for ${parsed.value.task_id}, sent to ${attempt.agent ?? 'no agent'}, from ${sender.agent}`);
      return;
    }
    // The agent is done with it, whatever the answer says: its slot goes to the next step in line
    // now, while the answer commits (an answer not checked yet frees it when its transition does).
    if (attempt && isTerminalStatus(parsed.value.status)) {
      this.engine.releaseAnswered(parsed.value.task_id, 'agent' in sender ? sender.agent : null).catch((error: unknown) => {
        this.logger.warn(`freeing the slot of ${parsed.value.task_id} failed: ${(error as Error).message}`);
      });
    }
    const problem = oversized
      ? `the answer is ${message.bytes} bytes; at most ${this.config.MAX_MESSAGE_BYTES} are taken`
      : ((isTerminalStatus(parsed.value.status) ? parsed.usageError : undefined) ??
        (parsed.value.status === TaskStatus.Completed ? jsonValueProblem(parsed.value.result, 'result', this.config.MAX_JSON_DEPTH) : null));
    const response: TaskResponse = problem
      ? failedResponse(parsed.value.task_id, `answer rejected: ${problem}`)
      : { ...parsed.value, error: parsed.value.error === null ? null : storableText(parsed.value.error.slice(0, MAX_ERROR_CHARS)) };
    try {
      await this.engine.applyResponse(response, message.subject, 'agent' in sender ? sender.agent : null);
    } catch (error) {
      this.metrics.errors.inc({ dependency: 'database' });
      // Not applied: the step's deadline brings it round again.
      this.logger.error(`applying response ${response.task_id} failed: ${(error as Error).message}`);
    }
  }

  /** Drops an answer that cannot count: counted every time, logged once a minute per sender. */
  private drop(sender: string, what: string): void {
    this.metrics.responsesDropped.inc();
    this.dropped.warn(sender, `dropped ${what} (further ones from this sender are counted, not logged, for a minute)`);
  }
}
