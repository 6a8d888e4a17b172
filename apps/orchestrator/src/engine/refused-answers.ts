import { Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { MetricsService } from '../metrics/metrics.service.js';

/** How often the refusals of one sender are logged. */
const LOG_EVERY_MS = 60_000;

export type RefusalReason = 'sender' | 'reply_subject' | 'inbox_full';

/**
 * Answers refused for who sent them: counted every time, logged once per sender per minute, so
 * that a client sending forgeries in a loop fills neither the log nor memory.
 */
@Injectable()
export class RefusedAnswers {
  private readonly logger = new Logger(RefusedAnswers.name);
  private readonly logged = new LRUCache<string, true>({ max: 10_000, ttl: LOG_EVERY_MS });

  constructor(private readonly metrics: MetricsService) {}

  refuse(reason: RefusalReason, sender: string, what: string): void {
    this.metrics.responsesRefused.inc({ reason });
    const key = `${reason}/${sender}`;
    if (this.logged.has(key)) return;
    this.logged.set(key, true);
    this.logger.warn(`refused ${what} (further refusals from this sender are counted, not logged, for a minute)`);
  }
}
