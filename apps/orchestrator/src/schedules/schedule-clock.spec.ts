import { describe, expect, it } from 'vitest';
import { COUNT_CAP, ScheduleClock, timingProblem } from './schedule-clock.js';

const at = (iso: string): Date => new Date(iso);
const isos = (dates: readonly Date[]): string[] => dates.map((date) => date.toISOString());
const cron = (expression: string, timezone: string | null = null): ScheduleClock => new ScheduleClock({ cron: expression, every_ms: null, timezone });

describe('ScheduleClock', () => {
  it('ticks every_ms on the multiples of it since the epoch, strictly after the time given', () => {
    const clock = new ScheduleClock({ cron: null, every_ms: 1_000, timezone: null });
    expect(clock.next(at('2030-01-01T00:00:00.000Z'))?.toISOString()).toBe('2030-01-01T00:00:01.000Z');
    expect(clock.next(at('2030-01-01T00:00:00.999Z'))?.toISOString()).toBe('2030-01-01T00:00:01.000Z');
    expect(isos(clock.between(at('2030-01-01T00:00:01.000Z'), at('2030-01-01T00:00:03.000Z'), 10))).toEqual([
      '2030-01-01T00:00:01.000Z',
      '2030-01-01T00:00:02.000Z',
      '2030-01-01T00:00:03.000Z',
    ]);
    expect(clock.count(at('2030-01-01T00:00:00.500Z'), at('2030-01-01T01:00:00.500Z'))).toEqual({ count: 3_600, capped: false });
    expect(clock.count(at('2030-01-01T00:00:01.000Z'), at('2030-01-01T00:00:01.000Z'))).toEqual({ count: 0, capped: false });
  });

  it('reads six fields as seconds first, in UTC by default', () => {
    const clock = cron('*/15 * * * * *');
    expect(isos(clock.between(at('2030-01-01T00:00:00.000Z'), at('2030-01-01T00:01:00.000Z'), 10))).toEqual([
      '2030-01-01T00:00:00.000Z',
      '2030-01-01T00:00:15.000Z',
      '2030-01-01T00:00:30.000Z',
      '2030-01-01T00:00:45.000Z',
      '2030-01-01T00:01:00.000Z',
    ]);
    expect(cron('30 8 * * 1-5').next(at('2030-01-04T09:00:00Z'))?.toISOString()).toBe('2030-01-07T08:30:00.000Z');
  });

  it('reads a time zone: 08:00 in Berlin is 07:00 UTC in winter and 06:00 UTC in summer', () => {
    const clock = cron('0 0 8 * * *', 'Europe/Berlin');
    expect(clock.next(at('2030-01-15T00:00:00Z'))?.toISOString()).toBe('2030-01-15T07:00:00.000Z');
    expect(clock.next(at('2030-07-15T00:00:00Z'))?.toISOString()).toBe('2030-07-15T06:00:00.000Z');
  });

  it('fires a local time that the spring change skips at the end of the gap, once, and the day after as usual', () => {
    // Europe/Berlin, 2025-03-30: at 02:00 CET the clocks go to 03:00 CEST; 02:30 does not exist that day.
    const clock = cron('0 30 2 * * *', 'Europe/Berlin');
    expect(isos(clock.between(at('2025-03-29T00:00:00Z'), at('2025-04-01T00:00:00Z'), 10))).toEqual([
      '2025-03-29T01:30:00.000Z', // 02:30 CET
      '2025-03-30T01:00:00.000Z', // 03:00 CEST, the first moment after the gap
      '2025-03-31T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('fires a local time that the autumn change repeats once, the first time', () => {
    // Europe/Berlin, 2025-10-26: at 03:00 CEST the clocks go back to 02:00 CET; 02:30 happens twice.
    const clock = cron('0 30 2 * * *', 'Europe/Berlin');
    expect(isos(clock.between(at('2025-10-25T00:00:00Z'), at('2025-10-28T00:00:00Z'), 10))).toEqual([
      '2025-10-25T00:30:00.000Z', // 02:30 CEST
      '2025-10-26T00:30:00.000Z', // the first 02:30 (CEST), not the second (01:30Z, CET)
      '2025-10-27T01:30:00.000Z', // 02:30 CET
    ]);
  });

  it('fires an hourly schedule every real hour across both changes: 23 on the short day, 25 on the long one', () => {
    const hourly = cron('0 0 * * * *', 'America/New_York');
    // New York 2025: clocks go forward on March 9 and back on November 2.
    expect(hourly.count(at('2025-03-09T05:00:00Z'), at('2025-03-10T04:00:00Z')).count).toBe(23);
    expect(hourly.count(at('2025-11-02T04:00:00Z'), at('2025-11-03T05:00:00Z')).count).toBe(25);
    const ticks = hourly.between(at('2025-11-02T04:00:00Z'), at('2025-11-03T04:59:59Z'), 100);
    expect(new Set(isos(ticks)).size).toBe(ticks.length);
    for (let i = 1; i < ticks.length; i++) expect((ticks[i]?.getTime() ?? 0) - (ticks[i - 1]?.getTime() ?? 0)).toBe(3_600_000);
  });

  it('stops counting a cron expression at the cap', () => {
    expect(cron('* * * * * *').count(at('2030-01-01T00:00:00Z'), at('2030-01-03T00:00:00Z'))).toEqual({ count: COUNT_CAP, capped: true });
  });
});

describe('timingProblem', () => {
  it('takes five and six fields and nicknames, with a time zone', () => {
    expect(timingProblem({ cron: '*/5 * * * *', every_ms: null, timezone: null })).toBeNull();
    expect(timingProblem({ cron: '0 30 8 * * 1-5', every_ms: null, timezone: 'Europe/Berlin' })).toBeNull();
    expect(timingProblem({ cron: '@daily', every_ms: null, timezone: 'UTC' })).toBeNull();
  });

  it('names what is wrong', () => {
    expect(timingProblem({ cron: '61 * * * *', every_ms: null, timezone: null })).toMatch(/^cron: "61 \* \* \* \*" is not a cron expression: .*minute/);
    expect(timingProblem({ cron: '* * *', every_ms: null, timezone: null })).toBe('cron: "* * *" has 3 fields; give 5 (minute hour day month weekday) or 6 (second first)');
    expect(timingProblem({ cron: '* * * * *', every_ms: null, timezone: 'Mars/Base' })).toMatch(/^timezone: "Mars\/Base" is not an IANA time zone name/);
  });
});
