import { Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { ORCHESTRATOR_AGENT_NAME, ORCHESTRATOR_ANSWER_OVERFLOW_SUBJECT, ORCHESTRATOR_ANSWERS_STREAM } from '@orchestrator/contracts';
import type { AppConfig } from '../config/app-config.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import type { DurableStream } from '../transport/durable-stream.js';
import { InboundMessage } from '../transport/inbound-message.js';
import { PULLING_REPLICAS, type IntakeStream } from '../transport/intake-stream.js';
import { StreamPuller } from '../transport/stream-puller.js';

/** The subject an answer came on, kept with it. */
const SUBJECT_HEADER = 'Orchestrator-Answer-Subject';
/** An answer kept longer than this finds its attempt timed out and retried long ago. */
const MAX_AGE_MS = 3_600_000;
/** Answers being handed to the stream at once; past that they are dropped, as without the stream. */
const MAX_KEEPING = 10_000;

/**
 * Answers that find the answer inbox full (ANSWER_INBOX_*), kept under durable intake in the
 * JetStream stream `ORCHESTRATOR_ANSWERS` and given back to the inbox as it has room, instead of
 * being dropped and lost until their attempts time out. Only what overflows goes through the
 * stream; without JetStream (or when the stream cannot take one) an answer that finds the inbox
 * full is dropped and counted as before.
 */
export class AnswerOverflow implements BeforeApplicationShutdown {
  private readonly logger = new Logger(AnswerOverflow.name);
  private keeping = 0;
  private puller: StreamPuller | undefined;

  private constructor(
    private readonly stream: DurableStream | undefined,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  static async open(intake: IntakeStream, config: AppConfig, metrics: MetricsService): Promise<AnswerOverflow> {
    const stream = await intake.alongside({
      name: ORCHESTRATOR_ANSWERS_STREAM,
      description: 'Answers that found an orchestrator replica\'s answer inbox full, kept until it has room',
      subjects: [ORCHESTRATOR_ANSWER_OVERFLOW_SUBJECT],
      maxAgeMs: MAX_AGE_MS,
      noAck: false,
      consumer: ORCHESTRATOR_AGENT_NAME,
      ackWaitMs: config.INTAKE_ACK_WAIT_MS,
      // One delivery more than INTAKE_MAX_DELIVER: the last one is dropped, not applied.
      maxDeliver: config.INTAKE_MAX_DELIVER + 1,
      maxAckPending: config.ANSWER_INBOX_CONCURRENCY * PULLING_REPLICAS,
    });
    return new AnswerOverflow(stream, config, metrics);
  }

  /** Keeps an answer that found the inbox full; false when it cannot be kept (no stream, too many being kept, the stream refused it). */
  async keep(message: InboundMessage): Promise<boolean> {
    if (!this.stream || this.keeping >= MAX_KEEPING) return false;
    this.keeping += 1;
    try {
      await this.stream.keep(ORCHESTRATOR_ANSWER_OVERFLOW_SUBJECT, message.raw, { [SUBJECT_HEADER]: message.subject });
      this.metrics.answersKept.inc();
      return true;
    } catch (error) {
      this.logger.warn(`an answer on ${message.subject} could not be kept while the inbox is full: ${(error as Error).message}`);
      return false;
    } finally {
      this.keeping -= 1;
    }
  }

  /** Gives the kept answers back to `apply`, as many at once as ANSWER_INBOX_CONCURRENCY, each acknowledged once applied. */
  start(apply: (message: InboundMessage) => Promise<void>): void {
    if (!this.stream) return;
    this.puller = new StreamPuller(this.stream, this.config.ANSWER_INBOX_CONCURRENCY, this.config.INTAKE_ACK_WAIT_MS, (msg) => this.giveBack(msg, apply), this.logger);
    this.puller.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.puller?.stop();
  }

  private async giveBack(msg: JsMsg, apply: (message: InboundMessage) => Promise<void>): Promise<void> {
    const subject = msg.headers?.get(SUBJECT_HEADER) ?? '';
    if (subject === '' || msg.info.deliveryCount > this.config.INTAKE_MAX_DELIVER) {
      this.metrics.responsesDropped.inc();
      this.logger.warn(`dropped kept answer ${msg.seq}${subject === '' ? ': it names no subject' : ` on ${subject}: not applied in ${msg.info.deliveryCount - 1} deliveries`}`);
      msg.term();
      return;
    }
    await apply(InboundMessage.of({ subject, data: msg.data }, undefined, this.config.MAX_MESSAGE_BYTES));
    msg.ack();
  }
}
