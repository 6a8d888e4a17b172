import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import { agentResponseSubject, ErrorCode, refusalResponse, type TaskResponse } from '@orchestrator/contracts';
import { AggregationService } from '../aggregation/aggregation.service.js';
import { AppConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { InboundMessage } from '../transport/inbound-message.js';
import { IntakeStream } from '../transport/intake-stream.js';
import { MessagePublisher } from '../transport/message-publisher.js';
import { StreamPuller } from '../transport/stream-puller.js';
import { derivedTaskId } from './derived-task-id.js';
import { ReplyGuard } from './reply-guard.js';
import { unreadableCode } from './unreadable-message.js';
import { RequestReplies } from './request-replies.js';
import { refusalAddress, SubmitTaskUseCase } from './submit-task.usecase.js';

interface Answer {
  response: TaskResponse;
  requesterId: string | null;
}

/** How long a request that could not be taken (the database unreachable) rests before it is delivered again. */
function restMs(delivery: number): number {
  return Math.min(1_000 * 2 ** (delivery - 1), 60_000);
}

/** The task_id of a request of this copy that names none: the same at every delivery of the copy. */
function taskIdOf(msg: JsMsg): string {
  return derivedTaskId({ stream: msg.info.stream, sequence: msg.seq, storedAtNanos: msg.info.timestampNanos, msgId: msg.headers?.get('Nats-Msg-Id') || undefined });
}

/** The task_id and requester a body names, for answering it when it cannot be taken (never an orchestrator's own id or name). */
function addressOf(message: InboundMessage): { taskId: string; requesterId: string | null } {
  return refusalAddress(message.body.ok ? message.body.value : undefined, false);
}

/**
 * Durable intake: takes the requests that the intake stream keeps (IntakeStream), as many at once
 * as INTAKE_CONCURRENCY, through the same use case as the NATS and HTTP controllers, and
 * acknowledges each once its workflow is committed or it has been answered. So a request
 * published while every replica is down runs when one comes back, and one held by a replica that
 * dies goes to another after INTAKE_ACK_WAIT_MS.
 *
 * - Each runs once: a delivery again of a request already committed finds its task_id taken by
 *   the same request, and is acknowledged without an answer (the workflow answers when it ends).
 * - Nothing is shed: a request waits for its turn, and the stream keeps the rest.
 * - A request that could not be taken (the database unreachable) is given back to the stream and
 *   rests, longer each time; at delivery INTAKE_MAX_DELIVER + 1 (also after replicas died holding
 *   it) it is answered FAILED instead of taken, and counted.
 * - Its answers go where the core controller sends them: to the reply subject of the request
 *   (RequestReplies: noted when it came over core NATS), else to `agent.<requester_id>.response`;
 *   a request whose reply subject is one of the platform's (ReplyGuard) is answered nowhere, and a
 *   refusal never names an orchestrator's own id nor goes to its response subject.
 */
@Injectable()
export class DurableIntakeService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DurableIntakeService.name);
  private readonly replies = new RequestReplies();
  private puller: StreamPuller | undefined;
  private listening: Subscription | undefined;

  constructor(
    private readonly stream: IntakeStream,
    private readonly submitTask: SubmitTaskUseCase,
    private readonly aggregation: AggregationService,
    private readonly publisher: MessagePublisher,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly guard: ReplyGuard,
  ) {
    if (stream.durable) {
      metrics.labelledGauge('orchestrator_intake_stream', 'Requests of the intake stream not yet taken (pending), taken and not yet acknowledged (held), delivered more than once (redelivered)', 'state', async () => {
        const state = await stream.requests.state().catch(() => undefined);
        return state && new Map(Object.entries(state));
      });
    }
  }

  get durable(): boolean {
    return this.stream.durable;
  }

  onApplicationBootstrap(): void {
    if (!this.stream.durable) return;
    // Listening first: a request published from now on has its reply subject noted before its copy comes.
    this.listening = this.stream.listen((msg) => {
      if (msg.reply) this.replies.note(msg, msg.reply);
    });
    this.puller = new StreamPuller(this.stream.requests, this.config.INTAKE_CONCURRENCY, this.config.INTAKE_ACK_WAIT_MS, (msg) => this.take(msg), this.logger);
    this.puller.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.puller?.stop();
    this.listening?.unsubscribe();
  }

  private async take(msg: JsMsg): Promise<void> {
    const copy = this.stream.requests.messageKey(msg);
    const message = InboundMessage.of(msg, await this.replies.takeOrWait(msg, copy, this.config.INTAKE_REPLY_WAIT_MS), this.config.MAX_MESSAGE_BYTES);
    const delivery = msg.info.deliveryCount;
    if (delivery > 1) this.metrics.requestsRedelivered.inc();
    if (delivery > this.config.INTAKE_MAX_DELIVER) {
      const { taskId, requesterId } = addressOf(message);
      this.metrics.requestsGivenUp.inc();
      this.logger.error(`request ${msg.seq} of the intake stream (task ${JSON.stringify(taskId)}) was not taken in ${delivery - 1} deliveries: answered FAILED`);
      const error = `the orchestrator could not take this request in ${delivery - 1} attempts; submit it again`;
      if (!this.guard.problem(message.reply)) this.send(message, { response: refusalResponse(taskId, error, ErrorCode.Unavailable), requesterId });
      msg.term();
      this.replies.forget(copy);
      return;
    }
    const answer = await this.answerFor(message, delivery > 1, taskIdOf(msg));
    if (answer === 'later') {
      msg.nak(restMs(delivery));
      return;
    }
    if (answer) this.send(message, answer);
    msg.ack();
    this.replies.forget(copy);
  }

  /** What to answer (nothing for a request accepted), or `later` when it could not be taken now. */
  private async answerFor(message: InboundMessage, redelivered: boolean, taskIdIfAbsent: string): Promise<Answer | undefined | 'later'> {
    if (!message.body.ok) return { response: refusalResponse('', message.body.error, unreadableCode(message)), requesterId: null };
    try {
      const outcome = await this.submitTask.execute(message.body.value, {
        replyTo: message.reply,
        traceparent: message.headers['traceparent'],
        bytes: message.bytes,
        held: true,
        taskIdIfAbsent,
      });
      switch (outcome.kind) {
        case 'accepted':
          return undefined;
        case 'existing':
          return redelivered ? undefined : { response: this.aggregation.responseOf(outcome.root), requesterId: outcome.root.requester_id };
        case 'rejected':
          // A reply subject refused is not answered anywhere else either.
          if (outcome.code === 'REPLY_REFUSED') return undefined;
          return { response: refusalResponse(outcome.taskId, outcome.error, outcome.code), requesterId: outcome.requesterId };
      }
    } catch (error) {
      this.logger.error(`taking task ${addressOf(message).taskId} failed: ${(error as Error).message}; it is delivered again later`);
      return 'later';
    }
  }

  private send(message: InboundMessage, answer: Answer): void {
    if (message.reply !== undefined) this.publisher.publish(message.reply, answer.response);
    else if (answer.requesterId) this.publisher.publish(agentResponseSubject(answer.requesterId), answer.response);
    else this.logger.warn(`dropped an answer nobody can receive for task ${JSON.stringify(answer.response.task_id)}: ${answer.response.error ?? answer.response.status}`);
  }
}
