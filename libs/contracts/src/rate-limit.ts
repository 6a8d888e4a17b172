/** The windows a rate limit counts over, in milliseconds. */
export const RATE_PERIODS_MS = { second: 1_000, minute: 60_000, hour: 3_600_000 } as const;
export type RatePeriod = keyof typeof RATE_PERIODS_MS;

/** At most `limit` sub-tasks in any window of one `per` (an agent's `rate_limit`, a step's). */
export interface RateLimit {
  limit: number;
  per: RatePeriod;
}

export const RATE_LIMIT_BOUNDS = { min: 1, max: 100_000 } as const;

export function isRatePeriod(value: unknown): value is RatePeriod {
  return typeof value === 'string' && Object.hasOwn(RATE_PERIODS_MS, value);
}
