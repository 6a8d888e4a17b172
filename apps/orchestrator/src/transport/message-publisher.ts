export interface PublishOptions {
  reply?: string;
  headers?: Readonly<Record<string, string>>;
}

/** Publishes raw JSON messages. The seam between the orchestrator's logic and NATS. */
export abstract class MessagePublisher {
  abstract publish(subject: string, body: unknown, options?: PublishOptions): void;
  /** Resolves once everything published so far has reached the server. */
  abstract flush(): Promise<void>;
}
