import { describe, expect, it } from 'vitest';
import { TaskPriority } from './enums.js';
import { OverlapPolicy, scheduledTaskId, validateSchedulePatch, validateScheduleRequest, type ScheduleSpec } from './schedule.js';

const base: ScheduleSpec = {
  schedule_id: 's',
  task_type: 'report',
  payload: {},
  cron: '0 8 * * *',
  every_ms: null,
  timezone: 'Europe/Berlin',
  overlap: OverlapPolicy.Skip,
  catchup_window_ms: 60_000,
  paused: false,
  priority: TaskPriority.Normal,
};

describe('validateScheduleRequest', () => {
  it('applies the defaults, and takes priorities and policies in any case', () => {
    expect(validateScheduleRequest({ schedule_id: 's', task_type: 'report', every_ms: 5_000, priority: 'high', overlap: 'Allow_All' })).toEqual({
      ok: true,
      value: { ...base, cron: null, every_ms: 5_000, timezone: null, overlap: OverlapPolicy.AllowAll, priority: TaskPriority.High },
    });
  });

  it.each([
    [{ task_type: 'report', every_ms: 5_000 }, 'schedule_id: is required'],
    [{ schedule_id: 's', every_ms: 5_000 }, 'task_type: is required'],
    [{ schedule_id: 's', task_type: 'report' }, 'cron: one of cron or every_ms is required'],
    [{ schedule_id: 's', task_type: 'report', cron: '* * * * *', every_ms: 5_000 }, 'cron: give cron or every_ms, not both'],
    [{ schedule_id: 's', task_type: 'report', every_ms: 5_000, timezone: 'UTC' }, 'timezone: applies to cron only'],
    [{ schedule_id: 's', task_type: 'report', every_ms: 1.5e3 + 0.5 }, 'every_ms: must be a whole number of milliseconds'],
    [{ schedule_id: 's', task_type: 'report', every_ms: 5_000, colour: 'red' }, 'colour: is not a field of a schedule'],
  ])('refuses %j naming the field', (input, message) => {
    const result = validateScheduleRequest(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
  });
});

describe('validateSchedulePatch', () => {
  it('changes the fields given and keeps the others', () => {
    expect(validateSchedulePatch(base, { payload: { n: 1 }, paused: true })).toEqual({ ok: true, value: { ...base, payload: { n: 1 }, paused: true } });
  });

  it('replaces the timing: every_ms drops the cron expression and its time zone, cron drops every_ms', () => {
    const every = validateSchedulePatch(base, { every_ms: 10_000 });
    expect(every).toEqual({ ok: true, value: { ...base, cron: null, every_ms: 10_000, timezone: null } });
    if (!every.ok) return;
    expect(validateSchedulePatch(every.value, { cron: '*/5 * * * * *' })).toEqual({ ok: true, value: { ...every.value, cron: '*/5 * * * * *', every_ms: null } });
  });

  it('refuses a new schedule_id and a time zone for every_ms', () => {
    expect(validateSchedulePatch(base, { schedule_id: 't' })).toMatchObject({ ok: false, error: expect.stringContaining('schedule_id: cannot change') as string });
    expect(validateSchedulePatch(base, { every_ms: 10_000, timezone: 'UTC' })).toMatchObject({ ok: false, error: expect.stringContaining('timezone: applies to cron only') as string });
  });
});

it('names a tick\'s run after its schedule and its instant', () => {
  expect(scheduledTaskId('nightly', new Date(1_893_456_000_000))).toBe('sched:nightly:1893456000000');
  expect(scheduledTaskId('nightly', new Date(1_893_456_000_000), 'trigger')).toBe('sched:nightly:trigger:1893456000000');
});
