import { Logger } from '@nestjs/common';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { PermissionViolationError, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { ORCHESTRATOR_INTAKE_CONSUMER, ORCHESTRATOR_INTAKE_STREAM, ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import type { AppConfig } from '../config/app-config.js';
import { API_TIMEOUT_MS, DurableStream, type DurableStreamSpec } from './durable-stream.js';

/** A request kept longer than this is dropped by the server: a week without any replica. */
const MAX_AGE_MS = 7 * 24 * 3_600_000;
/** How many replicas at full pace the consumer's bound on unacknowledged messages leaves room for. */
export const PULLING_REPLICAS = 16;

/** The stream of requests and its consumer. */
function requestsSpec(config: AppConfig): DurableStreamSpec {
  return {
    name: ORCHESTRATOR_INTAKE_STREAM,
    description: 'Requests to the orchestrator, each kept until a replica has committed its workflow',
    subjects: [ORCHESTRATOR_TASK_SUBJECT],
    maxAgeMs: MAX_AGE_MS,
    // A request on the subject is answered by the orchestrator, never by a PubAck.
    noAck: true,
    consumer: ORCHESTRATOR_INTAKE_CONSUMER,
    ackWaitMs: config.INTAKE_ACK_WAIT_MS,
    // One delivery more than INTAKE_MAX_DELIVER: the last one is answered FAILED, not run.
    maxDeliver: config.INTAKE_MAX_DELIVER + 1,
    maxAckPending: config.INTAKE_CONCURRENCY * PULLING_REPLICAS,
  };
}

/**
 * The JetStream side of durable intake (docs/deploy.md, "Durable intake"): the stream
 * `ORCHESTRATOR_INTAKE` that keeps every message published on `agent.orchestrator_agent.task`, and
 * the durable pull consumer `orchestrator_agent` every replica takes them from. `open` decides,
 * once at start, whether intake is durable: DURABLE_INTAKE, and whether the server offers
 * JetStream; `alongside` sets up other streams when it is.
 */
export class IntakeStream {
  private constructor(
    private readonly connection: NatsConnection,
    private readonly kept: DurableStream | undefined,
    private readonly manager: JetStreamManager | undefined,
    private readonly logger: Logger,
  ) {}

  static async open(connection: NatsConnection, config: AppConfig, logger = new Logger(IntakeStream.name)): Promise<IntakeStream> {
    const core = new IntakeStream(connection, undefined, undefined, logger);
    if (config.DURABLE_INTAKE === 'off') return core;
    let manager: JetStreamManager;
    try {
      manager = await jetstreamManager(connection, { timeout: API_TIMEOUT_MS });
    } catch (error) {
      // Only a clear no (no JetStream, or none for this user) makes `auto` go without: a timeout is asked again at the next start.
      const offered = !((error as Error).name === 'JetStreamNotEnabled' || error instanceof PermissionViolationError);
      const why = offered
        ? `JetStream did not answer (${(error as Error).message})`
        : `the NATS server offers no JetStream to this connection (${(error as Error).message})`;
      if (config.DURABLE_INTAKE === 'on' || offered) throw new Error(`DURABLE_INTAKE=${config.DURABLE_INTAKE}: ${why}`, { cause: error });
      logger.warn(`durable intake is off: ${why}; requests are taken over core NATS only`);
      return core;
    }
    const intake = new IntakeStream(connection, undefined, manager, logger);
    const requests = await intake.alongside(requestsSpec(config));
    logger.log(`durable intake: ${ORCHESTRATOR_TASK_SUBJECT} is kept in stream ${ORCHESTRATOR_INTAKE_STREAM}, taken by consumer ${ORCHESTRATOR_INTAKE_CONSUMER}`);
    return new IntakeStream(connection, requests, manager, logger);
  }

  /** True when requests come from the stream; false when they come over core NATS alone. */
  get durable(): boolean {
    return this.kept !== undefined;
  }

  /** The stream of requests; only when durable. */
  get requests(): DurableStream {
    if (!this.kept) throw new Error('durable intake is off');
    return this.kept;
  }

  /** Sets up another stream on the same connection when intake is durable; undefined when it is not. */
  async alongside(spec: DurableStreamSpec): Promise<DurableStream | undefined> {
    if (!this.manager) return undefined;
    try {
      return await DurableStream.open(this.connection, this.manager, spec, this.logger);
    } catch (error) {
      throw new Error(
        `the JetStream stream ${spec.name} or its consumer ${spec.consumer} could not be set up (${(error as Error).message}); ` +
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
}
