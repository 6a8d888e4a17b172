import type { ScheduleRunView, ScheduleView } from '@orchestrator/contracts';
import type { Colors } from '../output.js';
import { formatDuration } from './duration.js';
import { statusCell } from './status.js';
import { alignColumns, type Cell } from './table.js';

const header = (colors: Colors, ...names: string[]): Cell[] => names.map((name) => ({ text: name, style: colors.dim }));
const time = (iso: string | null): string => (iso === null ? '-' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

/** When a schedule's ticks come, in words: `cron 0 30 8 * * 1-5 (Europe/Berlin)` or `every 5s`. */
export function timingText(schedule: Pick<ScheduleView, 'cron' | 'every_ms' | 'timezone'>): string {
  if (schedule.cron !== null) return `cron ${schedule.cron}${schedule.timezone ? ` (${schedule.timezone})` : ''}`;
  return `every ${formatDuration(schedule.every_ms ?? 0)}`;
}

function runCell(run: ScheduleRunView | null, colors: Colors): Cell {
  if (run === null) return '-';
  if (run.outcome !== 'started') return { text: run.outcome, style: colors.dim };
  return statusCell(run.status ?? 'PENDING', colors);
}

/** `orchestrator schedules list`: each schedule, when it runs, its next tick and its last run. */
export function renderSchedules(schedules: readonly ScheduleView[], colors: Colors): string[] {
  if (schedules.length === 0) return ['no schedules'];
  const rows: Cell[][] = [header(colors, 'SCHEDULE_ID', 'TASK_TYPE', 'WHEN', 'OVERLAP', 'STATE', 'NEXT', 'LAST RUN', 'FIRES', 'SKIPPED')];
  for (const s of schedules) {
    rows.push([
      s.schedule_id,
      s.task_type,
      timingText(s),
      s.overlap,
      s.paused ? { text: 'paused', style: colors.yellow } : 'active',
      time(s.next_fire_at),
      runCell(s.last_run, colors),
      String(s.fires),
      String(s.skipped),
    ]);
  }
  return alignColumns(rows);
}

/** `orchestrator schedules get`: the schedule, its next ticks and its last runs. */
export function renderSchedule(s: ScheduleView, colors: Colors): string[] {
  const lines = [
    `${s.schedule_id}: ${s.task_type}, ${timingText(s)}, overlap ${s.overlap}, catch-up window ${formatDuration(s.catchup_window_ms)}, ${s.paused ? colors.yellow('paused') : 'active'}`,
    `${s.source === 'file' ? `declared in ${s.file ?? '?'}` : 'made over the API'}; priority ${s.priority}; ${s.fires} run(s) started, ${s.skipped} tick(s) skipped`,
    `payload: ${JSON.stringify(s.payload)}`,
    `next: ${s.next_fire_times.length > 0 ? s.next_fire_times.map(time).join(', ') : '-'}`,
  ];
  const runs = s.last_runs ?? [];
  if (runs.length === 0) return [...lines, 'no runs yet'];
  const rows: Cell[][] = [header(colors, 'TICK', 'KIND', 'RUN', 'TASK_ID', 'REASON')];
  for (const run of runs) rows.push([time(run.tick), run.kind, runCell(run, colors), run.task_id, { text: run.reason ?? '', style: colors.dim }]);
  return [...lines, '', ...alignColumns(rows)];
}
