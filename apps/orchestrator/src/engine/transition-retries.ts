import { Injectable, Logger } from '@nestjs/common';
import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import { AppConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { DatabaseTrouble } from '../persistence/database-errors.js';

/** A job's run of transient trouble: when it began and the backoff it is at. */
export interface Trouble {
  since: number;
  backoff: IBackoff<unknown>;
}

/**
 * How transitions that meet transient database trouble are tried again: after an exponential
 * backoff with jitter (50 ms, up to 2 s between tries), for at most TRANSITION_RETRY_MAX_MS from
 * the first failure; past that the job fails with the error (an answer's attempt then times out
 * like a lost one). Such trouble never makes an answer a failed attempt.
 */
@Injectable()
export class TransitionRetries {
  private readonly logger = new Logger(TransitionRetries.name);
  private readonly backoff = new ExponentialBackoff({ initialDelay: 50, maxDelay: 2_000 });

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  /** How long a batch may take before it is rolled back as stalled (TRANSITION_STALL_MS); 0: no limit. */
  get stallLimitMs(): number {
    return this.config.TRANSITION_STALL_MS ?? 0;
  }

  /** The next try of a job that met `kind` of trouble (`previous`: its earlier run of trouble), or null when it has tried long enough. */
  next(previous: Trouble | undefined, kind: DatabaseTrouble): Trouble | null {
    const now = Date.now();
    const since = previous?.since ?? now;
    if (now - since >= this.config.TRANSITION_RETRY_MAX_MS) {
      this.metrics.transitionRetries.inc({ reason: kind, outcome: 'gave_up' });
      this.logger.error(`a transition met ${kind} trouble for ${now - since} ms; giving up on it`);
      return null;
    }
    this.metrics.transitionRetries.inc({ reason: kind, outcome: 'retried' });
    return { since, backoff: previous ? previous.backoff.next(undefined) : this.backoff.next() };
  }
}
