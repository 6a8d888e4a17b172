import { MessagePublisher, type InboundBytes, type PublishOptions } from '../../../apps/orchestrator/src/transport/message-publisher.js';

/** A message as the engine published it, its body decoded. */
export interface Published {
  subject: string;
  body: Record<string, unknown>;
  options: PublishOptions;
}

const decoder = new TextDecoder();

/**
 * The engine's one seam to NATS, recording instead of sending: what would go on the wire, in
 * order, for a test to read (sub-tasks, cancels, final responses, lifecycle events, history).
 */
export class RecordingPublisher extends MessagePublisher {
  readonly replicaId = 'int-replica';
  readonly maxPayload = 1_048_576;
  connected = true;
  readonly messages: Published[] = [];
  /** How a request (the planner's question) is answered; by default nobody answers. */
  answerRequest: (subject: string, body: unknown) => Promise<unknown> = () => Promise.reject(new Error('no responders'));
  private readonly subscribers: { subject: string; onMessage: (message: InboundBytes) => void }[] = [];

  publish(subject: string, body: unknown, options: PublishOptions = {}): void {
    const decoded = body instanceof Uint8Array ? (JSON.parse(decoder.decode(body)) as Record<string, unknown>) : (JSON.parse(JSON.stringify(body)) as Record<string, unknown>);
    this.messages.push({ subject, body: decoded, options });
  }

  async request(subject: string, body: unknown): Promise<Uint8Array> {
    return new TextEncoder().encode(JSON.stringify(await this.answerRequest(subject, body)));
  }

  subscribe(subject: string, onMessage: (message: InboundBytes) => void): () => void {
    const entry = { subject, onMessage };
    this.subscribers.push(entry);
    return () => this.subscribers.splice(this.subscribers.indexOf(entry), 1);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** The messages on one subject (or those whose subject matches), in the order published. */
  on(subject: string | RegExp): Published[] {
    return this.messages.filter((m) => (typeof subject === 'string' ? m.subject === subject : subject.test(m.subject)));
  }

  clear(): void {
    this.messages.length = 0;
  }
}
