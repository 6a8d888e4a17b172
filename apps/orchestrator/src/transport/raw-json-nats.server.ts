import { randomUUID } from 'node:crypto';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { ServerNats, type ConsumerDeserializer, type IncomingRequest, type NatsOptions } from '@nestjs/microservices';
import { ORCHESTRATOR_WORKFLOW_SUBJECT } from '@orchestrator/contracts';
import { InboundMessage } from './inbound-message.js';
import { replySubjectProblem } from './reply-subjects.js';

type NatsServerOptions = Required<NatsOptions>['options'];

interface ResponsePacket {
  response?: unknown;
  err?: unknown;
}

/** Reads every message as plain JSON, never as Nest's envelope; a reply subject makes it a request. */
class RawJsonDeserializer implements ConsumerDeserializer {
  constructor(private readonly maxMessageBytes: number) {}

  deserialize(natsMsg: Msg, options?: { channel?: string }): IncomingRequest | { pattern: string; data: InboundMessage } {
    const data = InboundMessage.fromNats(natsMsg, this.maxMessageBytes);
    const pattern = options?.channel ?? natsMsg.subject;
    return data.reply === undefined ? { pattern, data } : { pattern, data, id: randomUUID() };
  }
}

/**
 * The NATS transport for plain JSON peers (CONTRACT.md). Nest's own NATS transport expects its
 * `{pattern, data, id}` envelope, mistakes a body with a top-level `data` key for one, treats a
 * request without `id` as an event, wraps replies, and closes without draining. Here:
 * - every body is the message itself, handed to handlers as an `InboundMessage`;
 * - a message with a reply subject is a request (handlers return its answer, or `undefined`
 *   to answer later from elsewhere); one without is an event;
 * - a reply is the bare JSON the handler returned, and nothing at all when it returned nothing,
 *   nor on a reply subject of the platform (see replySubjectProblem; a child workflow's request,
 *   which only orchestrators send, is answered on its sub-task's reply subject, checked by the intake);
 * - closing drains the connection and waits for the handlers already running.
 */
export class RawJsonNatsServer extends ServerNats {
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    options: NatsServerOptions,
    maxMessageBytes: number,
    /** The orchestrator's own inbox prefix: never a reply subject it answers on. */
    private readonly ownInbox: string,
  ) {
    super({ ...options, deserializer: new RawJsonDeserializer(maxMessageBytes) });
  }

  /** Keeps each message's handling, so that closing can wait for it to finish (its transaction to commit). */
  override handleMessage(channel: string, natsMsg: Msg): Promise<unknown> {
    const handling = super.handleMessage(channel, natsMsg);
    this.inFlight.add(handling);
    void handling.finally(() => this.inFlight.delete(handling)).catch(() => undefined);
    return handling;
  }

  override getPublisher(natsMsg: Msg, _id: string, _ctx: unknown): (packet: ResponsePacket) => unknown {
    if (!natsMsg.reply) return () => undefined;
    if (natsMsg.subject !== ORCHESTRATOR_WORKFLOW_SUBJECT && replySubjectProblem(natsMsg.reply, this.ownInbox)) return () => undefined;
    return (packet: ResponsePacket) => {
      if (packet.err !== undefined) {
        this.logger.error(`handler for ${natsMsg.subject} failed: ${packet.err instanceof Error ? packet.err.message : JSON.stringify(packet.err)}`);
        return undefined;
      }
      if (packet.response === undefined || packet.response === null) return undefined;
      return natsMsg.respond(JSON.stringify(packet.response));
    };
  }

  override async close(): Promise<void> {
    const client = (this as unknown as { natsClient: NatsConnection | null }).natsClient;
    if (client && !client.isClosed()) {
      await client.drain().catch((error: unknown) => {
        this.logger.warn(`NATS drain failed: ${(error as Error).message}`);
      });
    }
    // Draining stops delivery; the handlers already running finish before the database closes.
    await Promise.allSettled([...this.inFlight]);
    await super.close();
  }
}
