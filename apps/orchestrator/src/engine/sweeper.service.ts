import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { AgentRouter } from '../delegation/agent-router.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { TasksRepository } from '../persistence/tasks.repository.js';
import { DispatchResender } from './dispatch-resender.js';
import { SweepSignal } from './sweep-signal.js';
import { WorkflowEngine } from './workflow-engine.service.js';

/** How long a committed final response may stay unsent before the sweeper sends it. */
const UNSENT_RESPONSE_GRACE_MS = 5_000;
const BATCH = 200;
/** Every this many passes, steps waiting on agents that look full are taken too (a new agent may offer their capability). */
const FULL_PASS_EVERY = 20;

/**
 * Finds what time has made due — retries, steps waiting for a free slot, passed deadlines, sub-tasks
 * and final responses a dead process did not send — and hands it to the engine. Every replica runs one; the
 * engine's SKIP LOCKED keeps them off each other's work, and since all of it is in the database a
 * restart loses nothing. Steps that wait only on agents at capacity are left out of the choice, in
 * SQL, so that they never crowd out work that can run. It also deletes the workflows past their
 * retention (RETENTION_DAYS), a batch at a time.
 */
@Injectable()
export class SweeperService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SweeperService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private woken = false;
  private passes = 0;
  private retentionDueAt = 0;

  constructor(
    private readonly tasks: TasksRepository,
    private readonly engine: WorkflowEngine,
    private readonly router: AgentRouter,
    private readonly config: AppConfig,
    signal: SweepSignal,
    private readonly metrics: MetricsService,
    private readonly resender: DispatchResender,
  ) {
    signal.listen(() => this.wakeUp());
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
    this.passes += 1;
    const full = this.passes % FULL_PASS_EVERY === 0 ? [] : await this.router.fullAgents().catch(() => []);
    const due = await this.tasks.findDue(new Date(), BATCH, full);
    const blocked = due.length > 0 ? await this.engine.sweep(due) : [];
    await this.resender.resendUnsent();
    await this.engine.resendUnsentResponses(UNSENT_RESPONSE_GRACE_MS, BATCH);
    await this.retain();
    return due.length >= BATCH && blocked.length === 0;
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

  /** Runs the next sweep at once instead of at the next interval (or right after the one under way). */
  private wakeUp(): void {
    if (this.stopped) return;
    if (this.running) {
      this.woken = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.woken = false;
      this.running = this.sweepOnce()
        .then((more) => (more || this.woken ? 0 : this.config.SWEEP_INTERVAL_MS))
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
