export interface PublishOptions {
  reply?: string;
  headers?: Readonly<Record<string, string>>;
}

/** A message as a subscription gets it: its subject, its status code (no responders: 503), its body. */
export interface InboundBytes {
  subject: string;
  status: number | null;
  data: Uint8Array;
}

const encoder = new TextEncoder();

/** A message body as JSON bytes, encoded once: to measure it against the server's limit, then to send it. */
export function encodeJson(body: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(body));
}

/** Publishes raw JSON messages. The seam between the orchestrator's logic and NATS. */
export abstract class MessagePublisher {
  /** This replica's name in subjects: letters, digits, `_` and `-` only. */
  abstract readonly replicaId: string;
  /** The largest message the server takes (its `max_payload`), headers included. */
  abstract readonly maxPayload: number;

  /** The largest body a message may have: the server's limit, less room for its headers (trace context, a sub-task's own). */
  get maxBody(): number {
    return this.maxPayload - 1_024;
  }
  /** `body` is a value to send as JSON, or JSON already encoded by `encodeJson`. */
  abstract publish(subject: string, body: unknown, options?: PublishOptions): void;
  /** A request to another service: resolves with its answer's bytes, or rejects when none comes within `timeoutMs`. */
  abstract request(subject: string, body: unknown, timeoutMs: number): Promise<Uint8Array>;
  /** Calls `onMessage` for every message on `subject` until the returned function is called. */
  abstract subscribe(subject: string, onMessage: (message: InboundBytes) => void): () => void;
  /** False while the connection to the server is down (publishes are buffered). */
  abstract readonly connected: boolean;
  /** Resolves once everything published so far has reached the server. */
  abstract flush(): Promise<void>;
}
