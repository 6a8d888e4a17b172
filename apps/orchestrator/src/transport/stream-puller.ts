import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@nestjs/common';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { DurableStream } from './durable-stream.js';

/** How long one pull waits for messages before the next is sent: the idle cost, and how long stopping may wait for it. */
const FETCH_EXPIRES_MS = 2_000;
const MAX_PAUSE_MS = 5_000;

/**
 * Takes messages from a durable stream at the pace they are handled: it never holds more than
 * `capacity` at once (it asks for as many as it has room for), so nothing waits in memory
 * unseen while its acknowledgement time runs; a message being handled is kept alive
 * (`working`) until `handle` acks or naks it.
 */
export class StreamPuller {
  private held = 0;
  private stopped = false;
  private batch: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private roomMade: () => void = () => undefined;
  private readonly handling = new Set<Promise<void>>();

  constructor(
    private readonly stream: DurableStream,
    private readonly capacity: number,
    private readonly ackWaitMs: number,
    private readonly handle: (msg: JsMsg) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops asking for messages and waits for those held to be handled. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.roomMade();
    await this.batch?.close();
    await this.loop;
    await Promise.allSettled([...this.handling]);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      await this.room();
      if (this.stopped) return;
      try {
        this.batch = await this.stream.fetch(this.capacity - this.held, FETCH_EXPIRES_MS);
        for await (const msg of this.batch) this.take(msg);
        failures = 0;
      } catch (error) {
        failures += 1;
        const pause = Math.min(100 * 2 ** failures, MAX_PAUSE_MS);
        this.logger.warn(`taking messages from the stream failed (${(error as Error).message}); again in ${pause} ms`);
        await this.stream.recover().catch((why: unknown) => this.logger.warn(`the stream could not be set up again: ${(why as Error).message}`));
        if (!this.stopped) await sleep(pause);
      } finally {
        this.batch = undefined;
      }
    }
  }

  private take(msg: JsMsg): void {
    this.held += 1;
    const alive = setInterval(() => msg.working(), Math.max(this.ackWaitMs / 3, 100));
    const handling = this.handle(msg)
      .catch((error: unknown) => {
        // Not acked: the stream gives it again after its acknowledgement time.
        this.logger.error(`handling message ${msg.seq} of the stream failed: ${(error as Error).message}`);
      })
      .finally(() => {
        clearInterval(alive);
        this.held -= 1;
        this.handling.delete(handling);
        this.roomMade();
      });
    this.handling.add(handling);
  }

  /** Resolves once there is room for one more message, or the puller stops. */
  private room(): Promise<void> {
    if (this.held < this.capacity || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.roomMade = () => {
        if (this.held < this.capacity || this.stopped) {
          this.roomMade = () => undefined;
          resolve();
        }
      };
    });
  }
}
