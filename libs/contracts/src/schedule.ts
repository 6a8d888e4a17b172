import { IsBoolean, IsEnum, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { TaskPriority } from './enums.js';
import { TASK_TYPE_PATTERN } from './names.js';
import { isPlainObject, validateInto, type Validated } from './validation.js';

/** What a schedule does when a tick comes while its last run still runs. */
export enum OverlapPolicy {
  /** No new run: the tick is skipped. */
  Skip = 'skip',
  /** At most one tick waits, and starts when the last run ends; later ones are skipped. */
  BufferOne = 'buffer_one',
  /** Every tick starts a run. */
  AllowAll = 'allow_all',
  /** The running one is cancelled, then the tick's run starts. */
  CancelOther = 'cancel_other',
}

/** A schedule's id: it goes into its runs' task_ids (`sched:<schedule_id>:<tick in epoch ms>`). */
export const SCHEDULE_ID_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

export const SCHEDULE_LIMITS = {
  everyMs: { min: 1_000, max: 31_536_000_000 },
  catchupWindowMs: { min: 1_000, max: 31_536_000_000, default: 60_000 },
  cronLength: 200,
} as const;

/** The fields of a schedule, as `POST /schedules` and schedule files take them. */
export const SCHEDULE_FIELDS = ['schedule_id', 'task_type', 'payload', 'cron', 'every_ms', 'timezone', 'overlap', 'catchup_window_ms', 'paused', 'priority'] as const;

const RANGE = (what: string, limits: { min: number; max: number }): string => `must be ${what} from ${limits.min} to ${limits.max}`;

/** The fields a `PATCH /schedules/:id` may change (each optional); validated again as a whole schedule once merged. */
export class SchedulePatchDto {
  @IsOptional()
  @Matches(TASK_TYPE_PATTERN, { message: `must match ${TASK_TYPE_PATTERN.source}` })
  @IsString({ message: 'must be a string' })
  task_type?: string;

  @IsOptional()
  @IsObject({ message: 'must be a JSON object' })
  payload?: Record<string, unknown>;

  @IsOptional()
  @MaxLength(SCHEDULE_LIMITS.cronLength, { message: `must be at most ${SCHEDULE_LIMITS.cronLength} characters` })
  @MinLength(1, { message: 'must not be empty' })
  @IsString({ message: 'must be a cron expression (a string)' })
  cron?: string;

  @IsOptional()
  @Max(SCHEDULE_LIMITS.everyMs.max, { message: RANGE('a whole number of milliseconds', SCHEDULE_LIMITS.everyMs) })
  @Min(SCHEDULE_LIMITS.everyMs.min, { message: RANGE('a whole number of milliseconds', SCHEDULE_LIMITS.everyMs) })
  @IsInt({ message: 'must be a whole number of milliseconds' })
  every_ms?: number;

  @IsOptional()
  @MaxLength(64, { message: 'must be at most 64 characters' })
  @IsString({ message: 'must be an IANA time zone name, e.g. Europe/Berlin' })
  timezone?: string;

  @IsOptional()
  @IsEnum(OverlapPolicy, { message: `must be one of ${Object.values(OverlapPolicy).join(', ')}` })
  overlap?: OverlapPolicy;

  @IsOptional()
  @Max(SCHEDULE_LIMITS.catchupWindowMs.max, { message: RANGE('a whole number of milliseconds', SCHEDULE_LIMITS.catchupWindowMs) })
  @Min(SCHEDULE_LIMITS.catchupWindowMs.min, { message: RANGE('a whole number of milliseconds', SCHEDULE_LIMITS.catchupWindowMs) })
  @IsInt({ message: 'must be a whole number of milliseconds' })
  catchup_window_ms?: number;

  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  paused?: boolean;

  @IsOptional()
  @IsEnum(TaskPriority, { message: `must be one of ${Object.values(TaskPriority).join(', ')}` })
  priority?: TaskPriority;
}

/** A whole schedule: `POST /schedules`, or a schedule file. */
export class ScheduleRequestDto extends SchedulePatchDto {
  @Matches(SCHEDULE_ID_PATTERN, { message: `must match ${SCHEDULE_ID_PATTERN.source}` })
  @IsString({ message: 'is required (a string)' })
  schedule_id!: string;
}

/** A schedule after validation, defaults applied: exactly one of `cron` and `every_ms`; a `timezone` only with `cron`. */
export interface ScheduleSpec {
  schedule_id: string;
  task_type: string;
  payload: Record<string, unknown>;
  cron: string | null;
  every_ms: number | null;
  timezone: string | null;
  overlap: OverlapPolicy;
  catchup_window_ms: number;
  paused: boolean;
  priority: TaskPriority;
}

/** The fields of `input` that a schedule has not, named. */
function unknownFields(input: Record<string, unknown>, allowed: readonly string[]): string | null {
  const unknown = Object.keys(input).filter((key) => !allowed.includes(key));
  return unknown.length === 0 ? null : unknown.map((key) => `${key}: is not a field of a schedule (fields: ${allowed.join(', ')})`).join('; ');
}

/** Priorities and overlap policies in any case, as TaskRequest takes its priority. */
function normalized(input: Record<string, unknown>): Record<string, unknown> {
  const out = { ...input };
  if (typeof out['priority'] === 'string') out['priority'] = out['priority'].toUpperCase();
  if (typeof out['overlap'] === 'string') out['overlap'] = out['overlap'].toLowerCase();
  return out;
}

/** Checks the shape of a whole schedule and applies its defaults; the cron expression, the time zone and the task_type are checked by the orchestrator. */
export function validateScheduleRequest(input: unknown): Validated<ScheduleSpec> {
  if (!isPlainObject(input)) return { ok: false, error: 'schedule: must be a JSON object' };
  const unknown = unknownFields(input, SCHEDULE_FIELDS);
  if (unknown) return { ok: false, error: unknown };
  const result = validateInto(ScheduleRequestDto, normalized(input), 'schedule');
  if (!result.ok) return result;
  const taskType = result.value.task_type;
  if (taskType === undefined) return { ok: false, error: 'task_type: is required (a string)' };
  return timing({
    schedule_id: result.value.schedule_id,
    task_type: taskType,
    payload: result.value.payload ?? {},
    cron: result.value.cron ?? null,
    every_ms: result.value.every_ms ?? null,
    timezone: result.value.timezone ?? null,
    overlap: result.value.overlap ?? OverlapPolicy.Skip,
    catchup_window_ms: result.value.catchup_window_ms ?? SCHEDULE_LIMITS.catchupWindowMs.default,
    paused: result.value.paused ?? false,
    priority: result.value.priority ?? TaskPriority.Normal,
  });
}

/**
 * A patch applied to a schedule, checked as a whole schedule: giving `cron` or `every_ms` replaces
 * the timing (the other one goes, and with `every_ms` the time zone); `schedule_id` cannot change.
 */
export function validateSchedulePatch(current: ScheduleSpec, input: unknown): Validated<ScheduleSpec> {
  if (!isPlainObject(input)) return { ok: false, error: 'schedule: must be a JSON object' };
  const unknown = unknownFields(input, SCHEDULE_FIELDS);
  if (unknown) return { ok: false, error: unknown };
  if (input['schedule_id'] !== undefined && input['schedule_id'] !== current.schedule_id) {
    return { ok: false, error: `schedule_id: cannot change (it is "${current.schedule_id}"); create another schedule instead` };
  }
  const patch = validateInto(SchedulePatchDto, normalized(input), 'schedule');
  if (!patch.ok) return patch;
  const { cron, every_ms: everyMs } = patch.value;
  const merged: ScheduleSpec = { ...current };
  for (const key of ['task_type', 'payload', 'timezone', 'overlap', 'catchup_window_ms', 'paused', 'priority'] as const) {
    if (patch.value[key] !== undefined) Object.assign(merged, { [key]: patch.value[key] });
  }
  if (cron !== undefined && everyMs !== undefined) return { ok: false, error: 'cron: give cron or every_ms, not both' };
  if (cron !== undefined) Object.assign(merged, { cron, every_ms: null });
  if (everyMs !== undefined) Object.assign(merged, { every_ms: everyMs, cron: null, timezone: patch.value.timezone ?? null });
  return timing(merged);
}

function timing(spec: ScheduleSpec): Validated<ScheduleSpec> {
  if (spec.cron === null && spec.every_ms === null) return { ok: false, error: 'cron: one of cron or every_ms is required' };
  if (spec.cron !== null && spec.every_ms !== null) return { ok: false, error: 'cron: give cron or every_ms, not both' };
  if (spec.every_ms !== null && spec.timezone !== null) return { ok: false, error: 'timezone: applies to cron only (every_ms counts from the epoch, in no time zone)' };
  return { ok: true, value: spec };
}

/** The task_id of a schedule's run for a tick: the same for every replica, so that a tick runs once. */
export function scheduledTaskId(scheduleId: string, tick: Date, kind: 'tick' | 'trigger' = 'tick'): string {
  return kind === 'tick' ? `sched:${scheduleId}:${tick.getTime()}` : `sched:${scheduleId}:trigger:${tick.getTime()}`;
}

/** How a run of a schedule came: its time came (`scheduled`), `POST …/trigger`, or `POST …/backfill`. */
export type ScheduleRunKind = 'scheduled' | 'trigger' | 'backfill';

/** What a tick led to: a run started, skipped (`reason`), waiting for the last run to end (`buffered`), or refused by the intake (`failed`, `reason`). */
export type ScheduleRunOutcome = 'started' | 'skipped' | 'buffered' | 'failed';

/** One tick of a schedule and what it led to. Times are ISO 8601. */
export interface ScheduleRunView {
  tick: string;
  task_id: string;
  kind: ScheduleRunKind;
  outcome: ScheduleRunOutcome;
  reason: string | null;
  /** The status of the run's task; null when none was started. */
  status: string | null;
  at: string;
}

/** `GET /schedules` (each item) and `GET /schedules/:id` (with `last_runs`). */
export interface ScheduleView extends ScheduleSpec {
  /** `api`, or `file` for a schedule declared in a schedule file (its `file`), which only the file changes. */
  source: 'api' | 'file';
  file: string | null;
  /** The next ticks to come (none while paused). */
  next_fire_at: string | null;
  next_fire_times: string[];
  last_run: ScheduleRunView | null;
  /** Ticks that started a run, and ticks skipped (by the overlap policy, or older than the catch-up window when missed). */
  fires: number;
  skipped: number;
  created_at: string;
  updated_at: string;
  last_runs?: ScheduleRunView[];
}

/** `POST /schedules/:id/trigger`: a run now, under the schedule's overlap policy. */
export interface TriggerReply {
  schedule_id: string;
  tick: string;
  task_id: string;
  outcome: ScheduleRunOutcome;
  reason: string | null;
}

/** `POST /schedules/:id/backfill`: the ticks from `from` to `to` (both included), each run once however often asked. */
export interface BackfillReply {
  schedule_id: string;
  from: string;
  to: string;
  ticks: number;
  /** Ticks whose run this request started. */
  started: number;
  /** Ticks that had run (or were asked) before. */
  already: number;
  task_ids: string[];
}
