import { Injectable, Logger } from '@nestjs/common';
import { ThrottledLog } from '../logging/throttled-log.js';
import { MetricsService } from '../metrics/metrics.service.js';

export type RefusalReason = 'sender' | 'reply_subject' | 'reply_token' | 'inbox_full';

/**
 * Answers refused for who sent them: counted every time, logged once per sender per minute, so
 * that a client sending forgeries in a loop fills neither the log nor memory.
 */
@Injectable()
export class RefusedAnswers {
  private readonly log = new ThrottledLog(new Logger(RefusedAnswers.name), 10_000);

  constructor(private readonly metrics: MetricsService) {}

  refuse(reason: RefusalReason, sender: string, what: string): void {
    this.metrics.responsesRefused.inc({ reason });
    this.log.warn(`${reason}/${sender}`, `refused ${what} (further refusals from this sender are counted, not logged, for a minute)`);
  }
}
