import type { OverlapPolicy, TaskPriority } from '@orchestrator/contracts';

/** A schedule as a client writes it (`POST /schedules`): `cron` or `every_ms`, defaults left out. */
export interface ScheduleInput {
  schedule_id: string;
  task_type: string;
  payload?: Record<string, unknown>;
  /** Five fields, or six with seconds first, or `@daily`…; read in `timezone` (default UTC). */
  cron?: string;
  /** Ticks on the multiples of this many milliseconds since the epoch (at least 1000). */
  every_ms?: number;
  timezone?: string;
  overlap?: OverlapPolicy | `${OverlapPolicy}`;
  catchup_window_ms?: number;
  paused?: boolean;
  priority?: TaskPriority | `${TaskPriority}` | Lowercase<`${TaskPriority}`>;
}

/** The fields to change (`PATCH /schedules/:id`); `cron` or `every_ms` replaces the timing. */
export type SchedulePatchInput = Partial<Omit<ScheduleInput, 'schedule_id'>>;
