import pLimit, { type LimitFunction } from 'p-limit';

/**
 * At most `concurrency` jobs at once, and a bounded line of jobs waiting their turn, in count and
 * in bytes: a job that would overfill the line is refused at once instead of waiting without end.
 */
export class BoundedTurn {
  private readonly limit: LimitFunction;
  private waitingBytes = 0;

  constructor(
    concurrency: number,
    private readonly maxWaiting: number,
    private readonly maxWaitingBytes: number,
  ) {
    this.limit = pLimit(concurrency);
  }

  /** Jobs waiting, and the bytes they hold. */
  get waiting(): { count: number; bytes: number } {
    return { count: this.limit.pendingCount, bytes: this.waitingBytes };
  }

  /**
   * Runs `work` in its turn; `'full'` when the line is full. A job `held` elsewhere (a request a
   * stream keeps until it is done, whose holder takes no more than it can run) waits its turn
   * however long the line.
   */
  run<T>(bytes: number, work: () => Promise<T>, held = false): Promise<T> | 'full' {
    const queued = this.limit.activeCount >= this.limit.concurrency;
    if (queued && !held && (this.limit.pendingCount >= this.maxWaiting || this.waitingBytes + bytes > this.maxWaitingBytes)) return 'full';
    if (queued) this.waitingBytes += bytes;
    return this.limit(() => {
      if (queued) this.waitingBytes -= bytes;
      return work();
    });
  }
}
