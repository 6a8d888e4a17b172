import { Cron } from 'croner';

/** When a schedule's ticks come: a cron expression in a time zone, or every so many milliseconds from the epoch. */
export interface Timing {
  cron: string | null;
  every_ms: number | null;
  timezone: string | null;
}

/** How many ticks a count goes through at most: a cron expression's are counted one by one, each a fraction of a millisecond, on the event loop. */
export const COUNT_CAP = 1_000;

/**
 * The ticks of a schedule. Cron expressions have five fields, or six with seconds first, or a
 * nickname (`@hourly`, `@daily`…), and are read in their time zone (default UTC) by croner: a local
 * time that does not exist (the hour skipped when clocks go forward) fires at the first moment
 * after the gap, and one that happens twice (clocks going back) fires once, the first time.
 * `every_ms` ticks are the multiples of it since the epoch, the same on every replica whatever
 * the time zone.
 */
export class ScheduleClock {
  private readonly cron: Cron | null;

  constructor(readonly timing: Timing) {
    this.cron = timing.cron === null ? null : new Cron(timing.cron, { timezone: timing.timezone ?? 'UTC', paused: true });
  }

  /** The first tick strictly after `after`, or null when none comes again. */
  next(after: Date): Date | null {
    const every = this.timing.every_ms;
    if (every !== null) return new Date((Math.floor(after.getTime() / every) + 1) * every);
    return this.cron?.nextRun(after) ?? null;
  }

  /** The ticks from `from` to `to`, both included, at most `limit` of them. */
  between(from: Date, to: Date, limit: number): Date[] {
    const ticks: Date[] = [];
    for (let tick = this.next(new Date(from.getTime() - 1)); tick !== null && tick <= to && ticks.length < limit; tick = this.next(tick)) ticks.push(tick);
    return ticks;
  }

  /** How many ticks fall from `from` included to `to` excluded; past COUNT_CAP a cron expression's count stops there (`capped`). */
  count(from: Date, to: Date): { count: number; capped: boolean } {
    if (to <= from) return { count: 0, capped: false };
    const every = this.timing.every_ms;
    if (every !== null) return { count: Math.ceil(to.getTime() / every) - Math.ceil(from.getTime() / every), capped: false };
    const ticks = this.between(from, new Date(to.getTime() - 1), COUNT_CAP + 1);
    return ticks.length > COUNT_CAP ? { count: COUNT_CAP, capped: true } : { count: ticks.length, capped: false };
  }
}

/** What is wrong with a schedule's cron expression or time zone, named; null when croner takes them. */
export function timingProblem(timing: Timing): string | null {
  if (timing.timezone !== null) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timing.timezone });
    } catch {
      return `timezone: "${timing.timezone}" is not an IANA time zone name (e.g. Europe/Berlin, America/New_York, UTC)`;
    }
  }
  if (timing.cron === null) return null;
  const fields = timing.cron.trim().split(/\s+/);
  if (!timing.cron.trim().startsWith('@') && fields.length !== 5 && fields.length !== 6) {
    return `cron: "${timing.cron}" has ${fields.length} fields; give 5 (minute hour day month weekday) or 6 (second first)`;
  }
  try {
    const clock = new ScheduleClock(timing);
    if (clock.next(new Date()) === null) return `cron: "${timing.cron}" never fires again`;
  } catch (error) {
    return `cron: "${timing.cron}" is not a cron expression: ${(error as Error).message.replace(/^CronPattern: /, '')}`;
  }
  return null;
}
