import type { BackfillReply, ScheduleView, TriggerReply } from '@orchestrator/contracts';
import type { HttpApi } from './http-api.js';
import type { ScheduleInput, SchedulePatchInput } from './schedule-input.js';

/**
 * The schedules of the orchestrator (`/schedules`, over HTTP): `client.schedules.create({...})`.
 * Refusals throw OrchestratorError with the server's code: `INVALID_SCHEDULE` (400, the field
 * named), `SCHEDULE_NOT_FOUND` (404), `SCHEDULE_EXISTS` and `SCHEDULE_FROM_FILE` (409).
 */
export class SchedulesClient {
  constructor(private readonly http: () => HttpApi) {}

  /** Every schedule, with its next ticks and last run. */
  async list(): Promise<ScheduleView[]> {
    return (await this.http().schedules()).items;
  }

  /** A schedule with its next ticks and last runs. */
  get(scheduleId: string): Promise<ScheduleView> {
    return this.http().schedule(scheduleId);
  }

  create(schedule: ScheduleInput): Promise<ScheduleView> {
    return this.http().createSchedule(schedule);
  }

  /** Changes the fields given; `cron` or `every_ms` replaces the timing. */
  update(scheduleId: string, patch: SchedulePatchInput): Promise<ScheduleView> {
    return this.http().updateSchedule(scheduleId, patch);
  }

  async delete(scheduleId: string): Promise<void> {
    await this.http().deleteSchedule(scheduleId);
  }

  pause(scheduleId: string): Promise<ScheduleView> {
    return this.http().pauseSchedule(scheduleId, true);
  }

  /** Resumes from the next tick after now. */
  resume(scheduleId: string): Promise<ScheduleView> {
    return this.http().pauseSchedule(scheduleId, false);
  }

  /** A run now, under the schedule's overlap policy. */
  trigger(scheduleId: string): Promise<TriggerReply> {
    return this.http().triggerSchedule(scheduleId);
  }

  /** Runs every tick from `from` to `to` (both included, not in the future) that has not run; asking again does nothing. */
  backfill(scheduleId: string, from: Date | string | number, to: Date | string | number): Promise<BackfillReply> {
    return this.http().backfillSchedule(scheduleId, from, to);
  }
}
