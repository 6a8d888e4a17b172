import type { Logger } from '@nestjs/common';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type Consumer,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { headers as natsHeaders, nanos, type NatsConnection } from '@nats-io/transport-node';

/** Replicas of a stream's data when the server is part of a cluster. */
const CLUSTER_REPLICAS = 3;
export const API_TIMEOUT_MS = 5_000;

/** What a stream is for: its name, the subjects it keeps, how long, and whether a publish gets a PubAck. */
export interface DurableStreamSpec {
  name: string;
  description: string;
  subjects: string[];
  maxAgeMs: number;
  /** True: no PubAck, so that a request on a kept subject gets its answer from whoever serves it. */
  noAck: boolean;
  consumer: string;
  ackWaitMs: number;
  maxDeliver: number;
  maxAckPending: number;
}

/** What the durable consumer holds and has waiting, for readiness and metrics. */
export interface DurableStreamState {
  /** Messages in the stream that no replica has taken yet. */
  pending: number;
  /** Messages taken by a replica and not yet acknowledged. */
  held: number;
  /** Messages delivered more than once (a replica died holding them, or gave them back). */
  redelivered: number;
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

function streamConfig(spec: DurableStreamSpec, replicas: number): Partial<StreamConfig> & { name: string } {
  return {
    name: spec.name,
    description: spec.description,
    subjects: spec.subjects,
    // A message goes once it is acknowledged.
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: replicas,
    no_ack: spec.noAck,
    discard: DiscardPolicy.Old,
    max_age: nanos(spec.maxAgeMs),
  };
}

/** Creates the stream, or brings an existing one back to what it is for (operators' other changes stay); returns when it was created. */
async function ensureStream(manager: JetStreamManager, spec: DurableStreamSpec, clustered: boolean, logger: Logger): Promise<string> {
  try {
    const info = await manager.streams.info(spec.name);
    const { config } = info;
    const subjects = [...new Set([...config.subjects, ...spec.subjects])];
    if (Boolean(config.no_ack) !== spec.noAck || subjects.length !== config.subjects.length) {
      logger.warn(`stream ${spec.name}: setting no_ack ${spec.noAck} and subjects ${subjects.join(', ')}`);
      await manager.streams.update(spec.name, { ...config, no_ack: spec.noAck, subjects });
    }
    return info.created;
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
  }
  const replicas = clustered ? CLUSTER_REPLICAS : 1;
  try {
    return (await manager.streams.add(streamConfig(spec, replicas))).created;
  } catch (error) {
    if (replicas === 1) throw error;
    // A cluster of fewer than three servers: one copy, said loudly.
    logger.warn(`stream ${spec.name} with ${replicas} replicas failed (${(error as Error).message}); creating it with 1`);
    return (await manager.streams.add(streamConfig(spec, 1))).created;
  }
}

async function ensureConsumer(manager: JetStreamManager, spec: DurableStreamSpec): Promise<void> {
  const wanted: Partial<ConsumerConfig> = {
    ack_wait: nanos(spec.ackWaitMs),
    max_deliver: spec.maxDeliver,
    max_ack_pending: spec.maxAckPending,
  };
  try {
    const { config } = await manager.consumers.info(spec.name, spec.consumer);
    if (config.ack_wait !== wanted.ack_wait || config.max_deliver !== wanted.max_deliver || config.max_ack_pending !== wanted.max_ack_pending) {
      await manager.consumers.update(spec.name, spec.consumer, wanted);
    }
    return;
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
  }
  await manager.consumers.add(spec.name, {
    ...wanted,
    durable_name: spec.consumer,
    description: 'Every orchestrator replica pulls from here',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ...(spec.subjects.length === 1 ? { filter_subject: spec.subjects[0] } : {}),
  });
}

/**
 * A JetStream stream (file storage, 3 replicas in a cluster, work-queue retention) and the durable
 * pull consumer every orchestrator replica takes its messages from, with explicit
 * acknowledgement. Set up when opened; set up again by `recover` after someone deleted them.
 */
export class DurableStream {
  private constructor(
    private readonly client: JetStreamClient,
    private readonly consumer: Consumer,
    private readonly setUp: () => Promise<string>,
    /** When the stream was created: with a message's sequence, names that message for good (a stream made again starts at 1). */
    private createdAt: string,
  ) {}

  static async open(connection: NatsConnection, manager: JetStreamManager, spec: DurableStreamSpec, logger: Logger): Promise<DurableStream> {
    const setUp = async (): Promise<string> => {
      const createdAt = await ensureStream(manager, spec, connection.info?.cluster !== undefined, logger);
      await ensureConsumer(manager, spec);
      return createdAt;
    };
    const createdAt = await setUp();
    const client = jetstream(connection, { timeout: API_TIMEOUT_MS });
    return new DurableStream(client, await client.consumers.get(spec.name, spec.consumer), setUp, createdAt);
  }

  /** Asks for up to `count` messages; the batch ends when they have come or after `expiresMs`. */
  fetch(count: number, expiresMs: number): Promise<ConsumerMessages> {
    return this.consumer.fetch({ max_messages: count, expires: expiresMs });
  }

  /** Publishes to a subject of the stream, and resolves once the stream has stored it. */
  async keep(subject: string, data: Uint8Array, headers: Readonly<Record<string, string>>): Promise<void> {
    const h = natsHeaders();
    for (const [name, value] of Object.entries(headers)) h.set(name, value);
    await this.client.publish(subject, data, { headers: h });
  }

  async state(): Promise<DurableStreamState> {
    const info = await this.consumer.info();
    return { pending: info.num_pending, held: info.num_ack_pending, redelivered: info.num_redelivered };
  }

  /** A name for this message that no other message of the stream shares, now or after the stream is made again. */
  messageKey(msg: JsMsg): string {
    return `${this.createdAt}:${msg.seq}`;
  }

  /** Sets the stream and its consumer up again, as at start: after someone deleted them. */
  async recover(): Promise<void> {
    this.createdAt = await this.setUp();
  }
}
