import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { TransitionRunner, type QueuedJob, type TransitionJob } from './transition-runner.js';

/** Jobs in one transaction at most: enough to share a commit among many, few enough to keep each short. */
const MAX_BATCH = 200;

/**
 * Where every transition waits for its turn: jobs that arrive while batches run go together in
 * the next one, so that under load one commit serves many transitions, and an idle engine adds no
 * delay. A few batches run at once, each on its own connection.
 */
@Injectable()
export class TransitionQueue {
  private readonly waiting: QueuedJob[] = [];
  private running = 0;
  private readonly concurrency: number;

  constructor(
    private readonly runner: TransitionRunner,
    config: AppConfig,
  ) {
    this.concurrency = Math.max(1, Math.min(4, config.DB_POOL_SIZE - 2));
  }

  /** Applies a transition; resolves with what it returned once its batch has committed. */
  apply<T>(job: TransitionJob<T>): Promise<T> {
    const [applied] = this.applyEach([job]);
    return applied;
  }

  /**
   * Applies transitions queued together, so that they go in the same batch (up to its size) in
   * this order; each settles on its own, like `apply`.
   */
  applyEach<T>(jobs: readonly TransitionJob<T>[]): Promise<T>[] {
    const applied = jobs.map((job) => new Promise<T>((resolve, reject) => this.waiting.push({ job, resolve, reject })));
    this.pump();
    return applied;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const batch = this.take();
      this.running += 1;
      void this.runner
        .run(batch)
        .then(
          (again) => this.requeue(again),
          (error: unknown) => batch.forEach((queued) => queued.reject(error)),
        )
        .finally(() => {
          this.running -= 1;
          this.pump();
        });
    }
  }

  /** Jobs to apply again: at once (in front), or after their backoff when they met the database's trouble. */
  private requeue(jobs: readonly QueuedJob[]): void {
    this.waiting.unshift(...jobs.filter((queued) => queued.retryInMs === undefined));
    for (const { retryInMs, ...queued } of jobs) {
      if (retryInMs === undefined) continue;
      setTimeout(() => {
        this.waiting.push(queued);
        this.pump();
      }, retryInMs).unref();
    }
  }

  /** The next batch: a job to apply alone by itself, else up to MAX_BATCH others in arrival order. */
  private take(): QueuedJob[] {
    const alone = this.waiting.findIndex((queued) => queued.job.alone);
    if (alone === 0) return this.waiting.splice(0, 1);
    const end = alone < 0 ? this.waiting.length : alone;
    return this.waiting.splice(0, Math.min(end, MAX_BATCH));
  }
}
