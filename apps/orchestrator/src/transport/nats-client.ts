import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { connect, headers as natsHeaders, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { encodeJson, MessagePublisher, type InboundBytes, type PublishOptions } from './message-publisher.js';

/** What the server limits messages to when it has not said (NATS's default). */
const DEFAULT_MAX_PAYLOAD = 1_048_576;

/**
 * The orchestrator's own NATS connection for publishing (sub-tasks, final responses, events).
 * The microservice transport has a second one for subscriptions, so a slow consumer on one side
 * does not hold up the other. Reconnects forever; `connected` feeds the readiness check.
 */
export class NatsClient extends MessagePublisher implements OnApplicationShutdown {
  private readonly logger = new Logger(NatsClient.name);
  private isConnected = true;

  private constructor(
    readonly connection: NatsConnection,
    readonly replicaId: string,
    private readonly onTrouble: () => void,
  ) {
    super();
    void this.watchStatus();
  }

  /** `onTrouble` is told of every disconnection and error (for metrics). */
  static async connect(options: ConnectionOptions, replicaId: string, onTrouble: () => void = () => undefined): Promise<NatsClient> {
    const connection = await connect(options);
    return new NatsClient(connection, replicaId, onTrouble);
  }

  get connected(): boolean {
    return this.isConnected && !this.connection.isClosed();
  }

  get maxPayload(): number {
    return this.connection.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  publish(subject: string, body: unknown, options: PublishOptions = {}): void {
    const h = options.headers && Object.keys(options.headers).length > 0 ? natsHeaders() : undefined;
    if (h && options.headers) for (const [key, value] of Object.entries(options.headers)) h.set(key, value);
    this.connection.publish(subject, body instanceof Uint8Array ? body : encodeJson(body), {
      ...(options.reply ? { reply: options.reply } : {}),
      ...(h ? { headers: h } : {}),
    });
  }

  async request(subject: string, body: unknown, timeoutMs: number): Promise<Uint8Array> {
    const reply = await this.connection.request(subject, body instanceof Uint8Array ? body : encodeJson(body), { timeout: timeoutMs });
    return reply.data;
  }

  subscribe(subject: string, onMessage: (message: InboundBytes) => void): () => void {
    const subscription = this.connection.subscribe(subject, {
      callback: (error, msg) => {
        if (!error) onMessage({ subject: msg.subject, status: msg.headers?.code ?? null, data: msg.data });
      },
    });
    return () => subscription.unsubscribe();
  }

  flush(): Promise<void> {
    return this.connection.flush();
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.drain();
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type === 'error') this.onTrouble();
      if (status.type === 'disconnect') {
        this.onTrouble();
        this.isConnected = false;
        this.logger.warn('NATS disconnected; publishing is buffered until it reconnects');
      } else if (status.type === 'reconnect') {
        this.isConnected = true;
        this.logger.log('NATS reconnected');
      }
    }
  }
}
