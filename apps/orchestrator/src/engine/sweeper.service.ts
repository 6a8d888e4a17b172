import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { TasksRepository } from '../persistence/tasks.repository.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { SweepSignal } from './sweep-signal.js';
import { WorkflowEngine } from './workflow-engine.service.js';

/** How long a committed final response may stay unsent before the sweeper sends it. */
const UNSENT_RESPONSE_GRACE_MS = 5_000;
const BATCH = 200;

/**
 * Finds what time has made due — retries, passed deadlines, final responses a dead process did
 * not send — and hands it to the engine. Every replica runs one; the engine's SKIP LOCKED keeps
 * them off each other's work, and since all of it is in the database a restart loses nothing.
 */
@Injectable()
export class SweeperService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SweeperService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  private woken = false;

  constructor(
    private readonly tasks: TasksRepository,
    private readonly engine: WorkflowEngine,
    private readonly config: AppConfig,
    signal: SweepSignal,
    private readonly metrics: MetricsService,
  ) {
    signal.listen(() => this.wakeUp());
  }

  onApplicationBootstrap(): void {
    this.schedule(this.config.SWEEP_INTERVAL_MS);
  }

  /** Runs the next sweep at once instead of at the next interval (or right after the one under way). */
  private wakeUp(): void {
    if (this.stopped) return;
    if (this.running) {
      this.woken = true;
      return;
    }
    clearTimeout(this.timer);
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass; returns how many workflows it looked at. */
  async sweepOnce(): Promise<number> {
    const due = await this.tasks.findDueRootIds(new Date(), BATCH);
    // Agents found at capacity in this pass: workflows whose only due work is for them are left for
    // the next pass, which the next slot that comes free starts at once.
    const full = new Set<string>();
    let swept = 0;
    for (const { rootId, agents } of due) {
      if (agents.length > 0 && agents.every((agent) => agent !== null && full.has(agent))) continue;
      try {
        for (const agent of await this.engine.sweepWorkflow(rootId)) full.add(agent);
        swept += 1;
      } catch (error) {
        this.metrics.errors.inc({ dependency: 'database' });
        this.logger.error(`sweeping workflow ${rootId} failed: ${(error as Error).message}`);
      }
    }
    await this.engine.resendUnsentResponses(UNSENT_RESPONSE_GRACE_MS, BATCH);
    // A full batch of work that moved means more may be due: go again at once.
    return due.length >= BATCH && full.size === 0 ? swept : 0;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.woken = false;
      this.running = this.sweepOnce()
        // A full batch means more is due: go again at once.
        .then((count) => (count >= BATCH || this.woken ? 0 : this.config.SWEEP_INTERVAL_MS))
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
