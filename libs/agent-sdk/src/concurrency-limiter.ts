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

  run<T>(key: string, job: () => Promise<T> | T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.running += 1;
        // A job that throws synchronously must still free its slot and start the next one.
        new Promise<T>((settle) => settle(job()))
          .then(resolve, reject)
          .finally(() => {
            this.running -= 1;
            this.waiting.shift()?.start();
          });
      };
      if (this.running < this.limit) start();
      else this.waiting.push({ key, start, cancel: () => reject(new JobDroppedError(key)) });
    });
  }

  /** Removes a job that has not started (its promise rejects with JobDroppedError); true when it was waiting. */
  drop(key: string): boolean {
    const index = this.waiting.findIndex((entry) => entry.key === key);
    if (index < 0) return false;
    this.waiting.splice(index, 1)[0]?.cancel();
    return true;
  }
}
