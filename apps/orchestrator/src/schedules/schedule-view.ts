import type { ScheduleRunView, ScheduleView } from '@orchestrator/contracts';
import { ScheduleClock } from './schedule-clock.js';
import type { RunRow, ScheduleRow } from './schedules.repository.js';

/** How many coming ticks a view shows. */
const NEXT_TICKS = 5;

export function runView(run: RunRow): ScheduleRunView {
  return {
    tick: run.tick_at.toISOString(),
    task_id: run.task_id,
    kind: run.kind,
    outcome: run.outcome,
    reason: run.reason,
    status: run.status,
    at: run.created_at.toISOString(),
  };
}

/** A schedule as the API shows it: its spec, its next ticks (none while paused), its last run and counts. */
export function scheduleView(row: ScheduleRow, runs: readonly RunRow[], withRuns: boolean): ScheduleView {
  const next: Date[] = [];
  if (!row.paused && row.next_fire_at) {
    const clock = new ScheduleClock(row);
    for (let tick: Date | null = row.next_fire_at; tick !== null && next.length < NEXT_TICKS; tick = clock.next(tick)) next.push(tick);
  }
  const last = runs[0];
  return {
    schedule_id: row.schedule_id,
    task_type: row.task_type,
    payload: row.payload,
    cron: row.cron,
    every_ms: row.every_ms,
    timezone: row.timezone,
    overlap: row.overlap,
    catchup_window_ms: row.catchup_window_ms,
    paused: row.paused,
    priority: row.priority,
    source: row.file === null ? 'api' : 'file',
    file: row.file,
    next_fire_at: next[0]?.toISOString() ?? null,
    next_fire_times: next.map((tick) => tick.toISOString()),
    last_run: last ? runView(last) : null,
    fires: row.fires,
    skipped: row.skipped,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    ...(withRuns ? { last_runs: runs.map(runView) } : {}),
  };
}
