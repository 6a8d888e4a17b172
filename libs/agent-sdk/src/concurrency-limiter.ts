export class JobDroppedError extends Error {
  constructor(readonly key: string) {
    super(`${key} was dropped before it started`);
  }
}

interface Waiting {
  key: string;
  start: () => void;
  cancel: () => void;
}

/** Runs at most `limit` jobs at once; the rest wait in arrival order. */
export class ConcurrencyLimiter {
  private running = 0;
  private readonly waiting: Waiting[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency limit must be a positive integer, got ${limit}`);
  }

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `job` at once when a slot is free (no promise of the limiter's own in its way), else when one comes free. */
  async run<T>(key: string, job: () => Promise<T> | T): Promise<T> {
    if (this.running < this.limit) this.running += 1;
    else await new Promise<void>((start, reject) => this.waiting.push({ key, start, cancel: () => reject(new JobDroppedError(key)) }));
    try {
      return await job();
    } finally {
      // The slot goes straight to the next in line, so that a newcomer cannot overtake it.
      const next = this.waiting.shift();
      if (next) next.start();
      else this.running -= 1;
    }
  }

  /** Removes a job that has not started (its promise rejects with JobDroppedError); true when it was waiting. */
  drop(key: string): boolean {
    const index = this.waiting.findIndex((entry) => entry.key === key);
    if (index < 0) return false;
    this.waiting.splice(index, 1)[0]?.cancel();
    return true;
  }
}
