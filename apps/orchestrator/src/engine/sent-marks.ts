import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service.js';
import { UnsentDispatchesRepository } from '../persistence/unsent-dispatches.repository.js';
import type { AttemptRef } from '../persistence/workflow-transaction.js';
import { MessagePublisher } from '../transport/message-publisher.js';

/** How long marks gather before they are written together. */
const GATHER_MS = 5;

/**
 * Marks published sub-task attempts sent, many in one statement: the marks of the attempts
 * published within a few milliseconds are written together, once NATS has confirmed (a flush) that
 * everything published before them reached it. Until marked, an attempt counts as unsent, and any
 * replica publishes it again after DISPATCH_RESEND_AFTER_MS: a mark that is lost (a crash, the
 * database away) costs a message sent twice under the same id, never a message lost.
 */
@Injectable()
export class SentMarks implements OnApplicationShutdown {
  private readonly logger = new Logger(SentMarks.name);
  private pending: AttemptRef[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly unsent: UnsentDispatchesRepository,
    private readonly publisher: MessagePublisher,
    private readonly metrics: MetricsService,
  ) {}

  /** An attempt was handed to the publisher. */
  published(attempt: AttemptRef): void {
    this.pending.push(attempt);
    if (!this.timer && !this.writing) this.timer = setTimeout(() => void this.write(), GATHER_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    await this.writing;
    await this.write();
  }

  private async write(): Promise<void> {
    this.timer = undefined;
    const marks = this.pending;
    if (marks.length === 0) return;
    this.pending = [];
    this.writing = this.confirmAndMark(marks);
    await this.writing;
    this.writing = undefined;
    if (this.pending.length > 0 && !this.timer) this.timer = setTimeout(() => void this.write(), GATHER_MS);
  }

  private async confirmAndMark(marks: readonly AttemptRef[]): Promise<void> {
    try {
      await this.publisher.flush();
    } catch (error) {
      this.metrics.errors.inc({ dependency: 'nats' });
      this.logger.warn(`${marks.length} sub-tasks may not have reached NATS (${(error as Error).message}); they are published again`);
      return;
    }
    try {
      await this.unsent.markSent(marks);
    } catch (error) {
      this.metrics.errors.inc({ dependency: 'database' });
      this.logger.warn(`marking ${marks.length} sub-tasks sent failed (${(error as Error).message}); they are published again`);
    }
  }
}
