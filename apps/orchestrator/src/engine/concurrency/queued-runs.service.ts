import { Injectable, Logger } from '@nestjs/common';
import { MetricsService } from '../../metrics/metrics.service.js';
import { TasksRepository } from '../../persistence/tasks.repository.js';
import { TransitionQueue } from '../transition-queue.js';
import type { TransitionJob } from '../transition-runner.js';
import { AdmitTransition } from '../transitions/admit.transition.js';
import { CancelTransition } from '../transitions/cancel.transition.js';
import { RunSignal } from './run-signal.js';

/**
 * Queues the transitions that runs of concurrency keys need once a commit has decided them: QUEUED
 * runs marked for a look are admitted (each starts if its key has room), superseded runs are
 * cancelled. The sweeper calls `sweep` for what a replica that died after its commit left undone:
 * marked runs past their grace, and QUEUED runs past their deadline.
 */
@Injectable()
export class QueuedRuns {
  private readonly logger = new Logger(QueuedRuns.name);

  constructor(
    private readonly queue: TransitionQueue,
    private readonly tasks: TasksRepository,
    private readonly admitTransition: AdmitTransition,
    private readonly cancelTransition: CancelTransition,
    private readonly metrics: MetricsService,
    signal: RunSignal,
  ) {
    signal.listen({
      admit: (rootIds) => void this.admit(rootIds),
      supersede: (rootIds, reason) => void this.cancel(rootIds, reason),
    });
  }

  /** Looks at QUEUED runs (in this order: the sweeper's takes keys in turn); one held by another replica is left for later. */
  admit(rootIds: readonly string[]): Promise<void> {
    return this.settle(
      'admitting',
      rootIds,
      rootIds.map((rootId): TransitionJob<void> => ({ target: { kind: 'root', rootId, skipLocked: true }, ordered: true, apply: (wf) => this.admitTransition.apply(wf) })),
    );
  }

  /** Cancels runs with `reason` (the cancel transition, as a request to cancel would). */
  cancel(rootIds: readonly string[], reason: string): Promise<void> {
    return this.settle(
      'cancelling',
      rootIds,
      rootIds.map((rootId): TransitionJob<boolean> => ({ target: { kind: 'root', rootId, skipLocked: false }, apply: (wf) => this.cancelTransition.apply(wf, reason) })),
    );
  }

  /** The QUEUED runs due for a look (marked past their grace, or past their deadline), keys in turn; how many. */
  async sweep(limit: number): Promise<number> {
    const due = await this.tasks.findQueuedDue(new Date(), limit);
    if (due.length > 0) await this.admit(due);
    return due.length;
  }

  private async settle(what: string, rootIds: readonly string[], jobs: TransitionJob<unknown>[]): Promise<void> {
    const settled = await Promise.allSettled(this.queue.applyEach(jobs));
    settled.forEach((one, i) => {
      if (one.status === 'fulfilled') return;
      this.metrics.errors.inc({ dependency: 'database' });
      // The run stays as it is: marked runs come round again with the sweeper.
      this.logger.error(`${what} run ${rootIds[i] ?? '?'} failed: ${(one.reason as Error).message}`);
    });
  }
}
