export interface PublishOptions {
  reply?: string;
  headers?: Readonly<Record<string, string>>;
}

/** Publishes raw JSON messages. The seam between the orchestrator's logic and NATS. */
export abstract class MessagePublisher {
  /** This replica's name in subjects: letters, digits, `_` and `-` only. */
  abstract readonly replicaId: string;
  abstract publish(subject: string, body: unknown, options?: PublishOptions): void;
  /** False while the connection to the server is down (publishes are buffered). */
  abstract readonly connected: boolean;
  /** Resolves once everything published so far has reached the server. */
  abstract flush(): Promise<void>;
}
