import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ScheduleClock } from './schedule-clock.js';
import { ScheduleFiles } from './schedule-files.service.js';
import { ScheduleFiring } from './schedule-firing.js';
import { SchedulesRepository } from './schedules.repository.js';

/** Schedules one pass fires at most before it looks again at once. */
const SCHEDULES_PER_PASS = 50;
/** The least a replica waits between passes while a due schedule is held by another. */
const MIN_WAIT_MS = 20;

/**
 * Every replica runs one: at start it makes the schedules of files what the files say, then it
 * wakes for the next tick of any schedule (by the database's clock, and at least every
 * SCHEDULE_POLL_MS), fires what is due and starts the waiting ticks whose last run ended. Each
 * schedule is taken under its row lock, `FOR UPDATE SKIP LOCKED`, so replicas share the work and
 * never fire one tick twice; a pass with nothing due costs two index lookups.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SchedulerService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private woken = false;
  private pruneDueAt = 0;

  constructor(
    private readonly schedules: SchedulesRepository,
    private readonly firing: ScheduleFiring,
    private readonly files: ScheduleFiles,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const now = new Date();
    const synced = await this.schedules.syncFiles(
      this.files.schedules.map(({ spec, file }) => ({ spec, file, nextFireAt: new ScheduleClock(spec).next(now) })),
    );
    const { added, changed, removed } = synced;
    if (added.length + changed.length + removed.length > 0) {
      this.logger.log(`schedule files: ${added.length} added (${added.join(', ')}), ${changed.length} changed (${changed.join(', ')}), ${removed.length} removed (${removed.join(', ')})`);
    }
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Looks again at once: a schedule was made, changed or resumed here. */
  wakeUp(): void {
    if (this.stopped) return;
    if (this.running) {
      this.woken = true;
      return;
    }
    this.schedule(0);
  }

  /**
   * One pass; returns how long to wait before the next. A schedule whose pass fails (rolled back,
   * its ticks still due) is passed over until the next one, so that it holds up no other.
   */
  async pass(): Promise<number> {
    let fired = 0;
    let more = false;
    const failed: string[] = [];
    while (fired + failed.length < SCHEDULES_PER_PASS) {
      let current = '';
      try {
        const again = await this.schedules.withDue(failed, (tx, row, now) => {
          current = row.schedule_id;
          return this.firing.fireDue(tx, row, now);
        });
        if (again === null) break;
        fired += 1;
        more ||= again;
      } catch (error) {
        if (current === '') throw error;
        failed.push(current);
        this.logger.warn(`schedule ${current}: its ticks stay due, tried again at the next pass: ${(error as Error).message}`);
      }
    }
    for (let started = 0; started < SCHEDULES_PER_PASS; started++) {
      if ((await this.schedules.withBuffered((tx, row) => this.firing.startBuffered(tx, row))) === null) break;
    }
    await this.prune();
    if (more || fired >= SCHEDULES_PER_PASS) return 0;
    if (failed.length > 0) return this.config.SCHEDULE_POLL_MS;
    const next = await this.schedules.nextDueInMs();
    return Math.min(Math.max(next ?? this.config.SCHEDULE_POLL_MS, MIN_WAIT_MS), this.config.SCHEDULE_POLL_MS);
  }

  /** Records of runs go with the workflows they ran, after RETENTION_DAYS. */
  private async prune(): Promise<void> {
    const { RETENTION_DAYS, RETENTION_BATCH, RETENTION_INTERVAL_MS } = this.config;
    if (RETENTION_DAYS === 0 || Date.now() < this.pruneDueAt) return;
    const deleted = await this.schedules.pruneRuns(new Date(Date.now() - RETENTION_DAYS * 86_400_000), RETENTION_BATCH * 10);
    this.pruneDueAt = deleted >= RETENTION_BATCH * 10 ? 0 : Date.now() + RETENTION_INTERVAL_MS;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.woken = false;
      this.running = this.pass()
        .catch((error: unknown) => {
          this.metrics.errors.inc({ dependency: 'database' });
          this.logger.warn(`schedules pass failed: ${(error as Error).message}`);
          return this.config.SCHEDULE_POLL_MS;
        })
        .then((next) => {
          this.running = undefined;
          this.schedule(this.woken ? 0 : next);
        });
    }, delayMs);
  }
}
