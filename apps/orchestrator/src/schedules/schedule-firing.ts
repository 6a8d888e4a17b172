import { Injectable, Logger } from '@nestjs/common';
import { isTerminalStatus, scheduledTaskId, type BackfillReply, type ScheduleRunKind, type TaskStatus, type TriggerReply } from '@orchestrator/contracts';
import { CancelTaskUseCase } from '../intake/cancel-task.usecase.js';
import { SubmitTaskUseCase } from '../intake/submit-task.usecase.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ScheduleClock } from './schedule-clock.js';
import { ScheduleError } from './schedule-error.js';
import { planTicks, type OverlapState, type TickPlan } from './schedule-overlap.js';
import type { NewRun, ScheduleRow, ScheduleTransaction } from './schedules.repository.js';

/** Ticks one pass starts at most per schedule: more are taken by the next pass, at once. */
export const TICKS_PER_PASS = 100;
/** Ticks one backfill request may hold. */
export const BACKFILL_MAX_TICKS = 1_000;

type Started = { outcome: 'started'; reason: null } | { outcome: 'failed'; reason: string };

/** Where a schedule stands before a pass decides its ticks: its last run (while it runs), a waiting tick, what settling it did. */
interface Settled {
  state: OverlapState;
  lastTaskId: string | null;
  fires: number;
}

/**
 * What a schedule's ticks do, inside the transaction that holds its row: each tick's run is
 * submitted as a TaskRequest with the task_id the tick gives (`sched:<schedule_id>:<epoch ms>`),
 * before the schedule's next tick is moved on in the same transaction. A replica that dies in
 * between leaves the tick due, and the next one to take it submits the same task_id: the intake
 * returns the task that exists. So each tick runs once, whichever replicas fire it and however
 * often. A run the intake refuses for good (its workflow is gone, its payload no longer fits) is
 * recorded as failed; one refused for now (overloaded) rolls the pass back, to be tried again.
 */
@Injectable()
export class ScheduleFiring {
  private readonly logger = new Logger(ScheduleFiring.name);

  constructor(
    private readonly submitTask: SubmitTaskUseCase,
    private readonly cancelTask: CancelTaskUseCase,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * The ticks of a due schedule up to `now`: those older than its catch-up window are counted as
   * missed, the others go through its overlap policy. Returns true when more ticks may be due.
   */
  async fireDue(tx: ScheduleTransaction, row: ScheduleRow, now: Date): Promise<boolean> {
    const clock = new ScheduleClock(row);
    const from = row.next_fire_at ?? now;
    const windowStart = new Date(now.getTime() - row.catchup_window_ms);
    const missed = from < windowStart ? clock.count(from, windowStart) : { count: 0, capped: false };
    if (missed.count > 0) {
      this.metrics.scheduleTicksSkipped.inc({ schedule: row.schedule_id, reason: 'missed' }, missed.count);
      this.logger.warn(`schedule ${row.schedule_id}: ${missed.capped ? 'at least ' : ''}${missed.count} tick(s) from ${from.toISOString()} were missed, older than its catch-up window (${row.catchup_window_ms} ms)`);
    }
    const ticks = clock.between(from < windowStart ? windowStart : from, now, TICKS_PER_PASS);
    const last = ticks.at(-1);
    const more = ticks.length === TICKS_PER_PASS && last !== undefined;
    const settled = await this.settle(tx, row);
    const due = ticks.map((tick) => ({ tick, taskId: scheduledTaskId(row.schedule_id, tick) }));
    const existing = await tx.taskStatuses(due.map((one) => one.taskId));
    const { plans, state } = planTicks(row.overlap, due, settled.state, new Set(existing.keys()));
    const runs = await this.carryOut(row, plans, 'scheduled');
    await tx.recordRuns(runs);
    await tx.advance(row.schedule_id, {
      next_fire_at: more ? clock.next(last) : clock.next(now),
      last_task_id: lastStarted(runs) ?? settled.lastTaskId,
      buffered_task_id: state.buffered,
      fires: settled.fires + count(runs, 'started'),
      skipped: missed.count + count(runs, 'skipped'),
    });
    return more;
  }

  /** A schedule whose waiting tick may start (its last run ended): it starts. */
  async startBuffered(tx: ScheduleTransaction, row: ScheduleRow): Promise<void> {
    const settled = await this.settle(tx, row);
    await tx.advance(row.schedule_id, { last_task_id: settled.lastTaskId, buffered_task_id: settled.state.buffered, fires: settled.fires, skipped: 0 });
  }

  /** A run now, under the schedule's overlap policy (paused or not). */
  async trigger(tx: ScheduleTransaction, row: ScheduleRow, now: Date): Promise<TriggerReply> {
    const settled = await this.settle(tx, row);
    const taskId = scheduledTaskId(row.schedule_id, now, 'trigger');
    const { plans, state } = planTicks(row.overlap, [{ tick: now, taskId }], settled.state);
    const runs = await this.carryOut(row, plans, 'trigger');
    await tx.recordRuns(runs);
    await tx.advance(row.schedule_id, {
      last_task_id: lastStarted(runs) ?? settled.lastTaskId,
      buffered_task_id: state.buffered,
      fires: settled.fires + count(runs, 'started'),
      skipped: count(runs, 'skipped'),
    });
    const run = runs[0];
    return { schedule_id: row.schedule_id, tick: now.toISOString(), task_id: taskId, outcome: run?.outcome ?? 'failed', reason: run?.reason ?? null };
  }

  /**
   * Runs every tick from `from` to `to` (both included) that has not run: not the schedule's
   * overlap policy (each was asked for), and a tick that ran, or was asked for before, is left
   * as it is, so that asking again does nothing.
   */
  async backfill(tx: ScheduleTransaction, row: ScheduleRow, from: Date, to: Date): Promise<BackfillReply> {
    const ticks = new ScheduleClock(row).between(from, to, BACKFILL_MAX_TICKS + 1);
    if (ticks.length > BACKFILL_MAX_TICKS) {
      throw new ScheduleError('INVALID_SCHEDULE', `to: from ${from.toISOString()} to ${to.toISOString()} the schedule has more than ${BACKFILL_MAX_TICKS} ticks; backfill it in parts`);
    }
    const due = ticks.map((tick) => ({ tick, taskId: scheduledTaskId(row.schedule_id, tick) }));
    const claimed = await tx.claimBackfill(row.schedule_id, due);
    const plans = due.filter((one) => claimed.has(one.taskId)).map(({ tick, taskId }): TickPlan => ({ tick, taskId, outcome: 'started', reason: null, cancels: null }));
    const runs = await this.carryOut(row, plans, 'backfill');
    for (const run of runs) if (run.outcome === 'failed') await tx.settleRun(row.schedule_id, run.task_id, 'failed', run.reason);
    await tx.advance(row.schedule_id, { fires: count(runs, 'started'), skipped: 0 });
    return {
      schedule_id: row.schedule_id,
      from: from.toISOString(),
      to: to.toISOString(),
      ticks: ticks.length,
      started: count(runs, 'started'),
      already: ticks.length - claimed.size,
      task_ids: due.map((one) => one.taskId),
    };
  }

  /** Is the last run still running; and if not, a tick waiting for it starts now. */
  private async settle(tx: ScheduleTransaction, row: ScheduleRow): Promise<Settled> {
    let running = row.last_task_id;
    if (running !== null) {
      const status = (await tx.taskStatuses([running])).get(running);
      if (status === undefined || isTerminalStatus(status as TaskStatus)) running = null;
    }
    const waiting = row.buffered_task_id;
    if (waiting === null || running !== null) return { state: { running, buffered: waiting }, lastTaskId: row.last_task_id, fires: 0 };
    const started = await this.start(row, waiting);
    const kind = await tx.settleRun(row.schedule_id, waiting, started.outcome, started.reason);
    this.count(row, started, kind ?? 'scheduled');
    const ran = started.outcome === 'started';
    return { state: { running: ran ? waiting : null, buffered: null }, lastTaskId: ran ? waiting : row.last_task_id, fires: ran ? 1 : 0 };
  }

  /** Starts the runs the plans say (after cancelling what they replace), and returns every tick's record. */
  private async carryOut(row: ScheduleRow, plans: readonly TickPlan[], kind: ScheduleRunKind): Promise<NewRun[]> {
    for (const plan of plans) {
      if (plan.cancels !== null) await this.cancelTask.execute({ task_id: plan.cancels });
    }
    return Promise.all(
      plans.map(async (plan): Promise<NewRun> => {
        const record = { schedule_id: row.schedule_id, task_id: plan.taskId, tick_at: plan.tick, kind };
        if (plan.outcome !== 'started') {
          if (plan.outcome === 'skipped') this.metrics.scheduleTicksSkipped.inc({ schedule: row.schedule_id, reason: 'overlap' });
          return { ...record, outcome: plan.outcome, reason: plan.reason };
        }
        const started = await this.start(row, plan.taskId);
        this.count(row, started, kind);
        return { ...record, ...started };
      }),
    );
  }

  private count(row: ScheduleRow, started: Started, kind: ScheduleRunKind): void {
    if (started.outcome === 'started') this.metrics.scheduleFires.inc({ schedule: row.schedule_id, kind });
    else this.metrics.scheduleTicksSkipped.inc({ schedule: row.schedule_id, reason: 'refused' });
  }

  /** Submits one run, as a client would; a task that exists under its task_id counts as started (a repeat). */
  private async start(row: ScheduleRow, taskId: string): Promise<Started> {
    const outcome = await this.submitTask.execute({ task_id: taskId, task_type: row.task_type, payload: row.payload, priority: row.priority });
    if (outcome.kind !== 'rejected' || outcome.code === 'TASK_ID_CONFLICT') return { outcome: 'started', reason: null };
    if (outcome.code === 'OVERLOADED') throw new ScheduleError('OVERLOADED', `schedule ${row.schedule_id}: the intake is overloaded; its tick is tried again`);
    this.logger.warn(`schedule ${row.schedule_id}: run ${taskId} was refused: ${outcome.error}`);
    return { outcome: 'failed', reason: outcome.error };
  }
}

function count(runs: readonly NewRun[], outcome: NewRun['outcome']): number {
  return runs.filter((run) => run.outcome === outcome).length;
}

function lastStarted(runs: readonly NewRun[]): string | null {
  return runs.filter((run) => run.outcome === 'started').at(-1)?.task_id ?? null;
}
