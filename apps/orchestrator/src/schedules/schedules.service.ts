import { Injectable } from '@nestjs/common';
import { isPlainObject, type BackfillReply, type ScheduleSpec, type ScheduleView, type TriggerReply } from '@orchestrator/contracts';
import { ScheduleClock } from './schedule-clock.js';
import { ScheduleError } from './schedule-error.js';
import { ScheduleFiring } from './schedule-firing.js';
import { ScheduleValidator } from './schedule-validator.js';
import { scheduleView } from './schedule-view.js';
import { SchedulerService } from './scheduler.service.js';
import { SchedulesRepository, type ScheduleRow } from './schedules.repository.js';

/** How many of its runs `GET /schedules/:id` shows, newest first. */
const LAST_RUNS = 20;

/** Schedules made, read, changed and run by hand: the use cases behind `/schedules`. Throws ScheduleError. */
@Injectable()
export class SchedulesService {
  constructor(
    private readonly schedules: SchedulesRepository,
    private readonly validator: ScheduleValidator,
    private readonly firing: ScheduleFiring,
    private readonly scheduler: SchedulerService,
  ) {}

  /** A new schedule; its first tick is the first to come after now. */
  async create(body: unknown): Promise<ScheduleView> {
    const spec = valid(this.validator.validate(body));
    if (!(await this.schedules.insert(spec, nextTick(spec)))) {
      throw new ScheduleError('SCHEDULE_EXISTS', `schedule_id: "${spec.schedule_id}" exists already; change it with PATCH /schedules/${spec.schedule_id}`);
    }
    this.scheduler.wakeUp();
    return this.get(spec.schedule_id);
  }

  async list(): Promise<ScheduleView[]> {
    const rows = await this.schedules.list();
    const runs = await this.schedules.lastRuns(rows.map((row) => row.schedule_id), 1);
    return rows.map((row) => scheduleView(row, runs.get(row.schedule_id) ?? [], false));
  }

  async get(scheduleId: string): Promise<ScheduleView> {
    const row = await this.find(scheduleId);
    const runs = await this.schedules.lastRuns([scheduleId], LAST_RUNS);
    return scheduleView(row, runs.get(scheduleId) ?? [], true);
  }

  /** Changes a schedule made over the API; its next tick is set again when its timing changes or it is resumed. */
  async update(scheduleId: string, body: unknown): Promise<ScheduleView> {
    const row = await this.editable(scheduleId);
    const spec = valid(this.validator.validatePatch(row, body));
    const retimed = spec.cron !== row.cron || spec.every_ms !== row.every_ms || spec.timezone !== row.timezone || (row.paused && !spec.paused);
    if (!(await this.schedules.replace(spec, retimed ? nextTick(spec) : undefined))) throw notFound(scheduleId);
    this.scheduler.wakeUp();
    return this.get(scheduleId);
  }

  /** Deletes a schedule made over the API (the runs it started go on). */
  async delete(scheduleId: string): Promise<void> {
    await this.editable(scheduleId);
    if (!(await this.schedules.delete(scheduleId))) throw notFound(scheduleId);
  }

  /** Pauses or resumes; a resumed schedule goes on from its next tick after now (ticks of the pause are not caught up). */
  async setPaused(scheduleId: string, paused: boolean): Promise<ScheduleView> {
    const row = await this.find(scheduleId);
    if (!(await this.schedules.setPaused(scheduleId, paused, nextTick(row)))) throw notFound(scheduleId);
    if (!paused) this.scheduler.wakeUp();
    return this.get(scheduleId);
  }

  async trigger(scheduleId: string): Promise<TriggerReply> {
    const reply = await this.schedules.withSchedule(scheduleId, (tx, row, now) => this.firing.trigger(tx, row, now));
    if (!reply) throw notFound(scheduleId);
    return reply;
  }

  /** `{ from, to }`: ISO 8601 times or epoch milliseconds, `to` not after now. */
  async backfill(scheduleId: string, body: unknown): Promise<BackfillReply> {
    const fields = isPlainObject(body) ? body : {};
    const from = moment('from', fields['from']);
    const to = moment('to', fields['to']);
    if (to < from) throw new ScheduleError('INVALID_SCHEDULE', `to: must not be before from (${from.toISOString()})`);
    const reply = await this.schedules.withSchedule(scheduleId, (tx, row, now) => {
      if (to > now) throw new ScheduleError('INVALID_SCHEDULE', `to: must not be in the future (it is ${now.toISOString()}): future ticks run when they come`);
      return this.firing.backfill(tx, row, from, to);
    });
    if (!reply) throw notFound(scheduleId);
    return reply;
  }

  private async find(scheduleId: string): Promise<ScheduleRow> {
    const row = await this.schedules.find(scheduleId);
    if (!row) throw notFound(scheduleId);
    return row;
  }

  /** A schedule declared in a file is what its file says: it is changed there. */
  private async editable(scheduleId: string): Promise<ScheduleRow> {
    const row = await this.find(scheduleId);
    if (row.file !== null) throw new ScheduleError('SCHEDULE_FROM_FILE', `schedule ${scheduleId} is declared in ${row.file}: change or remove it there (pause, resume, trigger and backfill work here)`);
    return row;
  }
}

function valid(result: { ok: true; value: ScheduleSpec } | { ok: false; error: string }): ScheduleSpec {
  if (!result.ok) throw new ScheduleError('INVALID_SCHEDULE', result.error);
  return result.value;
}

function nextTick(spec: ScheduleSpec): Date | null {
  return new ScheduleClock(spec).next(new Date());
}

function notFound(scheduleId: string): ScheduleError {
  return new ScheduleError('SCHEDULE_NOT_FOUND', `no schedule with schedule_id ${JSON.stringify(scheduleId)}`);
}

/** A time in a request: an ISO 8601 string or epoch milliseconds. */
function moment(field: string, value: unknown): Date {
  const date = typeof value === 'number' && Number.isFinite(value) ? new Date(value) : typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : null;
  if (date === null || Number.isNaN(date.getTime())) throw new ScheduleError('INVALID_SCHEDULE', `${field}: is required: an ISO 8601 time (2030-01-01T08:00:00Z) or epoch milliseconds`);
  return date;
}
