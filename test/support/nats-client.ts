import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { testEnv } from './test-env.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A plain NATS client, as any agent in any language would use: raw JSON in, raw JSON out. */
export class PlainNatsClient {
  private constructor(readonly nc: NatsConnection) {}

  static async connect(): Promise<PlainNatsClient> {
    return new PlainNatsClient(await connect({ servers: testEnv().natsUrl, name: 'e2e-plain-client' }));
  }

  async request(subject: string, body: unknown, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const data = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    const reply = await this.nc.request(subject, typeof data === 'string' ? encoder.encode(data) : data, { timeout: timeoutMs });
    return JSON.parse(decoder.decode(reply.data)) as Record<string, unknown>;
  }

  publish(subject: string, body: unknown): void {
    this.nc.publish(subject, typeof body === 'string' ? encoder.encode(body) : encoder.encode(JSON.stringify(body)));
  }

  /** Collects the JSON messages published on `subject` from now on. */
  collect(subject: string): Collector {
    return new Collector(this.nc.subscribe(subject));
  }

  async flush(): Promise<void> {
    await this.nc.flush();
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}

export class Collector {
  readonly messages: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];

  constructor(private readonly sub: Subscription) {
    void (async () => {
      for await (const msg of sub) {
        this.messages.push(JSON.parse(decoder.decode(msg.data)) as Record<string, unknown>);
        for (const wake of this.waiters.splice(0)) wake();
      }
    })();
  }

  async waitForCount(count: number, timeoutMs = 30_000): Promise<Record<string, unknown>[]> {
    const until = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      const left = until - Date.now();
      if (left <= 0) throw new Error(`expected ${count} messages on ${this.sub.getSubject()}, got ${this.messages.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.messages;
  }

  stop(): void {
    this.sub.unsubscribe();
  }
}
