import { Logger } from '@nestjs/common';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type Consumer,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { ORCHESTRATOR_INTAKE_CONSUMER, ORCHESTRATOR_INTAKE_STREAM, ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import type { AppConfig } from '../config/app-config.js';

/** A request kept longer than this is dropped by the server: a week without any replica. */
const MAX_AGE_MS = 7 * 24 * 3_600_000;
/** Replicas of the stream's data when the server is part of a cluster. */
const CLUSTER_REPLICAS = 3;
/** How many replicas at full pace the consumer's bound on unacknowledged requests leaves room for. */
const PULLING_REPLICAS = 16;
const API_TIMEOUT_MS = 5_000;

/** What the durable consumer holds and has waiting, for readiness and metrics. */
export interface IntakeStreamState {
  /** Requests in the stream that no replica has taken yet. */
  pending: number;
  /** Requests taken by a replica and not yet acknowledged. */
  held: number;
  /** Requests delivered more than once (a replica died holding them, or gave them back). */
  redelivered: number;
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

/**
 * The JetStream side of durable intake (docs/deploy.md, "Durable intake"): the stream
 * `ORCHESTRATOR_INTAKE` keeps every message published on `agent.orchestrator_agent.task` (file
 * storage, `no_ack` so that a request on the subject is answered by the orchestrator and never by
 * a JetStream PubAck), and the durable pull consumer `orchestrator_agent` that every replica takes
 * them from with explicit acknowledgement. `open` decides, once at start, whether intake is
 * durable: DURABLE_INTAKE, and whether the server offers JetStream.
 */
export class IntakeStream {
  private constructor(
    private readonly connection: NatsConnection,
    private readonly consumer: Consumer | undefined,
    private readonly setUp: () => Promise<string>,
    /** When the stream was created: with a message's sequence, names that message for good (a stream made again starts at 1). */
    private createdAt: string,
  ) {}

  /** True when requests come from the stream; false when they come over core NATS alone. */
  get durable(): boolean {
    return this.consumer !== undefined;
  }

  static async open(connection: NatsConnection, config: AppConfig, logger = new Logger(IntakeStream.name)): Promise<IntakeStream> {
    const core = new IntakeStream(connection, undefined, () => Promise.resolve(''), '');
    if (config.DURABLE_INTAKE === 'off') return core;
    let manager: JetStreamManager;
    try {
      manager = await jetstreamManager(connection, { timeout: API_TIMEOUT_MS });
    } catch (error) {
      const why = `the NATS server offers no JetStream to this connection (${(error as Error).message})`;
      if (config.DURABLE_INTAKE === 'on') throw new Error(`DURABLE_INTAKE=on: ${why}`, { cause: error });
      logger.warn(`durable intake is off: ${why}; requests are taken over core NATS only`);
      return core;
    }
    const setUp = async (): Promise<string> => {
      const createdAt = await ensureStream(manager, connection.info?.cluster !== undefined, logger);
      await ensureConsumer(manager, consumerConfig(config));
      return createdAt;
    };
    try {
      const createdAt = await setUp();
      const consumer = await jetstream(connection, { timeout: API_TIMEOUT_MS }).consumers.get(ORCHESTRATOR_INTAKE_STREAM, ORCHESTRATOR_INTAKE_CONSUMER);
      logger.log(`durable intake: ${ORCHESTRATOR_TASK_SUBJECT} is kept in stream ${ORCHESTRATOR_INTAKE_STREAM}, taken by consumer ${ORCHESTRATOR_INTAKE_CONSUMER}`);
      return new IntakeStream(connection, consumer, setUp, createdAt);
    } catch (error) {
      throw new Error(
        `DURABLE_INTAKE=${config.DURABLE_INTAKE}: the stream ${ORCHESTRATOR_INTAKE_STREAM} or its consumer could not be set up (${(error as Error).message}); ` +
          'fix it, or set DURABLE_INTAKE=off to take requests over core NATS only',
        { cause: error },
      );
    }
  }

  /**
   * Calls `onRequest` with every message published on the subject the stream keeps, as core NATS
   * delivers it (with its reply subject), before the stream's copy of it comes: both come on one
   * connection, and the server writes the message to it before it has stored it.
   */
  listen(onRequest: (msg: Msg) => void): Subscription {
    return this.connection.subscribe(ORCHESTRATOR_TASK_SUBJECT, {
      callback: (error, msg) => {
        if (!error) onRequest(msg);
      },
    });
  }

  /** Asks for up to `count` requests; the batch ends when they have come or after `expiresMs`. */
  fetch(count: number, expiresMs: number): Promise<ConsumerMessages> {
    return this.required().fetch({ max_messages: count, expires: expiresMs });
  }

  async state(): Promise<IntakeStreamState> {
    const info = await this.required().info();
    return { pending: info.num_pending, held: info.num_ack_pending, redelivered: info.num_redelivered };
  }

  /** A name for this message that no other message of the stream shares, now or after the stream is made again. */
  messageKey(msg: JsMsg): string {
    return `${this.createdAt}:${msg.seq}`;
  }

  /** Sets the stream and its consumer up again, as at start: after someone deleted them. */
  async recover(): Promise<void> {
    if (this.durable) this.createdAt = await this.setUp();
  }

  private required(): Consumer {
    if (!this.consumer) throw new Error('durable intake is off');
    return this.consumer;
  }
}

function streamConfig(replicas: number): Partial<StreamConfig> & { name: string } {
  return {
    name: ORCHESTRATOR_INTAKE_STREAM,
    description: 'Requests to the orchestrator, each kept until a replica has committed its workflow',
    subjects: [ORCHESTRATOR_TASK_SUBJECT],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: replicas,
    no_ack: true,
    discard: DiscardPolicy.Old,
    max_age: nanos(MAX_AGE_MS),
  };
}

/** Creates the stream, or brings an existing one back to what intake needs; returns when it was created. */
async function ensureStream(manager: JetStreamManager, clustered: boolean, logger: Logger): Promise<string> {
  try {
    const info = await manager.streams.info(ORCHESTRATOR_INTAKE_STREAM);
    const { config } = info;
    if (!config.no_ack || !config.subjects.includes(ORCHESTRATOR_TASK_SUBJECT)) {
      // Without no_ack the server would answer requests on the subject with its PubAck.
      logger.warn(`stream ${ORCHESTRATOR_INTAKE_STREAM}: setting no_ack and subject ${ORCHESTRATOR_TASK_SUBJECT}`);
      await manager.streams.update(ORCHESTRATOR_INTAKE_STREAM, { ...config, no_ack: true, subjects: [...new Set([...config.subjects, ORCHESTRATOR_TASK_SUBJECT])] });
    }
    return info.created;
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
  }
  const replicas = clustered ? CLUSTER_REPLICAS : 1;
  try {
    return (await manager.streams.add(streamConfig(replicas))).created;
  } catch (error) {
    if (replicas === 1) throw error;
    // A cluster of fewer than three servers: one copy, said loudly.
    logger.warn(`stream ${ORCHESTRATOR_INTAKE_STREAM} with ${replicas} replicas failed (${(error as Error).message}); creating it with 1`);
    return (await manager.streams.add(streamConfig(1))).created;
  }
}

function consumerConfig(config: AppConfig): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: ORCHESTRATOR_INTAKE_CONSUMER,
    description: 'Every orchestrator replica pulls requests from here',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: ORCHESTRATOR_TASK_SUBJECT,
    ack_wait: nanos(config.INTAKE_ACK_WAIT_MS),
    // One delivery more than INTAKE_MAX_DELIVER: the last one is answered FAILED, not run.
    max_deliver: config.INTAKE_MAX_DELIVER + 1,
    max_ack_pending: config.INTAKE_CONCURRENCY * PULLING_REPLICAS,
  };
}

async function ensureConsumer(manager: JetStreamManager, wanted: Partial<ConsumerConfig> & { durable_name: string }): Promise<void> {
  try {
    const { config } = await manager.consumers.info(ORCHESTRATOR_INTAKE_STREAM, wanted.durable_name);
    if (config.ack_wait !== wanted.ack_wait || config.max_deliver !== wanted.max_deliver || config.max_ack_pending !== wanted.max_ack_pending) {
      await manager.consumers.update(ORCHESTRATOR_INTAKE_STREAM, wanted.durable_name, {
        ack_wait: wanted.ack_wait,
        max_deliver: wanted.max_deliver,
        max_ack_pending: wanted.max_ack_pending,
      });
    }
    return;
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
  }
  await manager.consumers.add(ORCHESTRATOR_INTAKE_STREAM, wanted);
}
