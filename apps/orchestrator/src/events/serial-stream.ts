import type { SseConnection } from './sse-connection.js';

/**
 * What both history streams share: everything a stream does runs in turn (its catch-up first,
 * then each relayed batch as it came), and a step that fails closes it, since it can no longer
 * promise what it sends: the client resumes from the last event it got.
 */
export abstract class SerialStream {
  private turn: Promise<void> = Promise.resolve();

  protected constructor(
    protected readonly sse: SseConnection,
    private readonly onError: (error: unknown) => void,
  ) {}

  close(): void {
    this.sse.close();
  }

  /** Runs `work` once everything queued before it has run. */
  protected enqueue(work: () => Promise<void>): void {
    this.turn = this.turn.then(work).catch((error: unknown) => {
      this.onError(error);
      this.sse.close();
    });
  }
}
