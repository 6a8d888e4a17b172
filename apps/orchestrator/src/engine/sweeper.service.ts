import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { AgentRouter } from '../delegation/agent-router.service.js';
import { DispatchQueue } from '../delegation/dispatch-queue.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { TasksRepository } from '../persistence/tasks.repository.js';
import { DispatchResender } from './dispatch-resender.js';
import { AgentRoomSignal } from '../registry/agent-room-signal.js';
import { QueuedRuns } from './concurrency/queued-runs.service.js';
import { WorkflowEngine } from './workflow-engine.service.js';

/** How long a committed final response may stay unsent before the sweeper sends it. */
const UNSENT_RESPONSE_GRACE_MS = 5_000;
const BATCH = 200;
/** Steps put back in their lines at one time, when Redis lost them. */
const RESTORE_BATCH = 1_000;

/**
 * Finds what time has made due — retries, passed deadlines, sub-tasks and final responses a dead
 * process did not send — and hands it to the engine. Every replica runs one; the engine's SKIP
 * LOCKED keeps them off each other's work, and since all of it is in the database a restart loses
 * nothing. Steps waiting for a slot on an agent are not due: they wait in lines that freed slots
 * move (DispatchQueue); a pass only moves the lines a lost message left still, and puts back what
 * Redis lost. It also deletes the workflows past their retention (RETENTION_DAYS), a batch at a time.
 */
@Injectable()
export class SweeperService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SweeperService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private retentionDueAt = 0;
  private restoreDueAt = 0;

  constructor(
    private readonly tasks: TasksRepository,
    private readonly engine: WorkflowEngine,
    private readonly router: AgentRouter,
    private readonly queue: DispatchQueue,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly resender: DispatchResender,
    private readonly queuedRuns: QueuedRuns,
    room: AgentRoomSignal,
  ) {
    // An agent that joins (or raises its capacity) takes waiting steps at once, not at the next pass.
    room.listen((agent) => {
      void this.router.release(agent, null).then((claims) => this.engine.dispatchClaimed(claims));
    });
  }

  onApplicationBootstrap(): void {
    this.schedule(this.config.SWEEP_INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass; true when it found a full batch of due work that could move (more may be due). */
  async sweepOnce(): Promise<boolean> {
    const due = await this.tasks.findDue(new Date(), BATCH);
    if (due.length > 0) await this.stage('moving due work', this.engine.sweep(due));
    await this.stage('publishing unsent sub-tasks again', this.resender.resendUnsent());
    await this.stage('moving the lines', this.moveLines());
    await this.stage('sending unsent final responses', this.engine.resendUnsentResponses(UNSENT_RESPONSE_GRACE_MS, BATCH));
    await this.stage('starting queued runs', this.queuedRuns.sweep(BATCH));
    await this.stage('retention', this.retain());
    return due.length >= BATCH;
  }

  /**
   * A stage of a pass, given SWEEP_STAGE_TIMEOUT_MS: one that has not settled by then (waiting on
   * something that never answers) is logged and left behind, so that no hang stops every later
   * pass (retries, deadlines, lines); what it was doing is still due at the next pass.
   */
  private async stage(name: string, work: Promise<unknown>): Promise<void> {
    const limitMs = this.config.SWEEP_STAGE_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), limitMs);
    });
    try {
      const outcome = await Promise.race([work, late]);
      if (outcome !== 'late') return;
      this.logger.warn(`sweep stage "${name}" did not finish within ${limitMs} ms (SWEEP_STAGE_TIMEOUT_MS); the next pass goes on without it`);
      work.catch((error: unknown) => this.logger.warn(`sweep stage "${name}", left behind, failed: ${(error as Error).message}`));
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * What a lost message would leave undone: every agent's lines moved into the room it has (a slot
   * freed by a deadline, an agent that raised its capacity), and, every QUEUE_RESTORE_INTERVAL_MS,
   * the steps that have waited that long put back in their lines if Redis lost them (or a replica
   * died between popping one and dispatching it).
   */
  private async moveLines(): Promise<void> {
    await this.engine.dispatchClaimed(await this.router.pumpAll().catch(() => []));
    if (Date.now() < this.restoreDueAt) return;
    this.restoreDueAt = Date.now() + this.config.QUEUE_RESTORE_INTERVAL_MS;
    const before = new Date(Date.now() - this.config.QUEUE_RESTORE_INTERVAL_MS);
    let after: { updatedAt: Date; id: string } | null = null;
    for (;;) {
      const page = await this.tasks.waitingSteps(before, after, RESTORE_BATCH);
      const back = await this.queue.restore(page);
      if (back > 0) this.logger.warn(`put ${back} waiting steps back in their lines`);
      const last = page.at(-1);
      if (!last || page.length < RESTORE_BATCH) break;
      after = { updatedAt: last.updatedAt, id: last.id };
    }
  }

  /**
   * Deletes a batch of workflows finished more than RETENTION_DAYS ago, every RETENTION_INTERVAL_MS,
   * or at every pass while a backlog lasts: small batches, so that no pass holds locks for long.
   */
  private async retain(): Promise<void> {
    const { RETENTION_DAYS, RETENTION_BATCH, RETENTION_INTERVAL_MS } = this.config;
    if (RETENTION_DAYS === 0 || Date.now() < this.retentionDueAt) return;
    const cutoff = new Date(Date.now() - RETENTION_DAYS * 86_400_000);
    const deleted = await this.tasks.deleteFinished(cutoff, RETENTION_BATCH);
    this.metrics.retentionDeleted.inc({ what: 'workflows' }, deleted.workflows);
    this.metrics.retentionDeleted.inc({ what: 'rows' }, deleted.rows);
    this.metrics.retentionDeleted.inc({ what: 'events' }, deleted.events);
    this.retentionDueAt = deleted.workflows >= RETENTION_BATCH ? 0 : Date.now() + RETENTION_INTERVAL_MS;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.sweepOnce()
        .then((more) => (more ? 0 : this.config.SWEEP_INTERVAL_MS))
        .catch((error: unknown) => {
          this.metrics.errors.inc({ dependency: 'database' });
          this.logger.warn(`sweep failed: ${(error as Error).message}`);
          return this.config.SWEEP_INTERVAL_MS;
        })
        .then((next) => {
          this.running = undefined;
          this.schedule(next);
        });
    }, delayMs);
  }
}
