import { Inject, Injectable } from '@nestjs/common';
import { RATE_PERIODS_MS, type RateLimit } from '@orchestrator/contracts';
import { Redis } from 'ioredis';

/** One rate limit to keep: the bucket it counts in, and `limit` sub-tasks per `windowMs`. */
export interface RateBucket {
  /** `agent:<name>`, or `step:<task_type>/<step>/<key>`. */
  name: string;
  limit: number;
  windowMs: number;
}

/** What taking from buckets gave: taken, or the first bucket without room and how long until this caller may come back. */
export type Take = { ok: true } | { ok: false; bucket: RateBucket; retryAfterMs: number };

const tatKey = (bucket: RateBucket): string => `orchestrator:rate:${bucket.name}`;
const waitersKey = (bucket: RateBucket): string => `orchestrator:rate:${bucket.name}:waiting`;

export function agentBucket(agent: string, rate: RateLimit): RateBucket {
  return { name: `agent:${agent}`, limit: rate.limit, windowMs: RATE_PERIODS_MS[rate.per] };
}

export function stepBucket(taskType: string, stepId: string, key: string | null, rate: RateLimit): RateBucket {
  return { name: `step:${taskType}/${stepId}${key === null ? '' : `/${key}`}`, limit: rate.limit, windowMs: RATE_PERIODS_MS[rate.per] };
}

/**
 * GCRA (the generic cell rate algorithm: a token bucket of `limit` tokens refilled at `limit` per
 * window, kept as one number) per bucket, on the Redis server's clock: the bucket's theoretical
 * arrival time (TAT) moves on one emission interval (window / limit) per sub-task; a sub-task may go
 * while TAT is at most a window minus one interval ahead of now. So at most `limit` go at once after
 * a quiet spell, and `limit` per window on and on; a sub-task sent late does not lose its turn.
 *
 * A caller takes from every bucket or from none, at once. One that finds no room is, when it asks
 * to (`reserve`), given the next free turn: TAT moves on for it and it is noted as waiting with the
 * time of its turn, so waiters come back one interval apart and each finds its turn kept; coming
 * back (at most 50 ms early) it goes without taking again. Without `reserve` (a candidate agent
 * that may be passed over) it is only told when there will be room.
 *
 * KEYS: for each bucket its TAT and its waiters; ARGV: the member, 1 to reserve, then each bucket's limit and window.
 */
const TAKE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local member, reserve = ARGV[1], ARGV[2] == '1'
local buckets = #KEYS / 2
local full, wait = 0, 0
local state = {}
for i = 1, buckets do
  local tat_key, waiters = KEYS[2 * i - 1], KEYS[2 * i]
  local limit, window = tonumber(ARGV[2 * i + 1]), tonumber(ARGV[2 * i + 2])
  local tau = window - window / limit
  redis.call('ZREMRANGEBYSCORE', waiters, '-inf', now - 2 * window)
  local turn = redis.call('ZSCORE', waiters, member)
  if turn then
    state[i] = 'reserved'
    if tonumber(turn) > now + 50 and (full == 0 or tonumber(turn) - now > wait) then full, wait = i, tonumber(turn) - now end
  else
    local tat = math.max(tonumber(redis.call('GET', tat_key) or '0'), now)
    if tat - tau > now then
      state[i] = tat
      if full == 0 or tat - tau - now > wait then full, wait = i, tat - tau - now end
    else
      state[i] = 'free'
    end
  end
end
if full > 0 then
  if reserve then
    for i = 1, buckets do
      if type(state[i]) == 'number' then
        local tat_key, waiters = KEYS[2 * i - 1], KEYS[2 * i]
        local limit, window = tonumber(ARGV[2 * i + 1]), tonumber(ARGV[2 * i + 2])
        local interval = window / limit
        local tat = state[i] + interval
        redis.call('SET', tat_key, tostring(tat), 'PX', math.ceil(tat - now))
        redis.call('ZADD', waiters, state[i] - window + interval, member)
        redis.call('PEXPIRE', waiters, math.ceil(tat - now + 2 * window))
      end
    end
  end
  return {full, math.ceil(wait)}
end
for i = 1, buckets do
  local tat_key, waiters = KEYS[2 * i - 1], KEYS[2 * i]
  if state[i] == 'reserved' then
    redis.call('ZREM', waiters, member)
  else
    local limit, window = tonumber(ARGV[2 * i + 1]), tonumber(ARGV[2 * i + 2])
    local tat = math.max(tonumber(redis.call('GET', tat_key) or '0'), now) + window / limit
    redis.call('SET', tat_key, tostring(tat), 'PX', math.ceil(tat - now))
  end
end
return {0, 0}`;

/** A turn taken but not used (no free slot after all) is given back: TAT moves back one interval, not before now. KEYS: TATs; ARGV: limits and windows. */
const REFUND = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
for i = 1, #KEYS do
  local limit, window = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0') - window / limit
  if tat > now then redis.call('SET', KEYS[i], tostring(tat), 'PX', math.ceil(tat - now)) else redis.call('DEL', KEYS[i]) end
end
return 0`;

/** How many more the bucket takes now: its whole limit after a quiet spell, less one per interval TAT is ahead. */
const HEADROOM = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local interval = window / limit
local ahead = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now) - now
return math.max(0, math.min(limit, math.floor((window - interval - ahead) / interval + 1e-9) + 1))`;

type Script = (...args: (string | number)[]) => Promise<unknown>;

/** Rate limits held by every replica together: one bucket per limit in Redis. */
@Injectable()
export class RateBuckets {
  constructor(@Inject(Redis) private readonly redis: Redis) {
    this.redis.defineCommand('orchestratorRateTake', { lua: TAKE });
    this.redis.defineCommand('orchestratorRateRefund', { lua: REFUND });
    this.redis.defineCommand('orchestratorRateHeadroom', { numberOfKeys: 1, lua: HEADROOM });
  }

  private script(name: string): Script {
    const script = (this.redis as unknown as Record<string, Script | undefined>)[name];
    if (!script) throw new Error(`the Redis script ${name} is not defined`);
    return script.bind(this.redis);
  }

  /**
   * Takes a turn in each bucket for `member` (a sub-task attempt), or in none; `reserve`: when one
   * has no room, keep the next free turn for it. Throws when Redis is unreachable.
   */
  async take(buckets: readonly RateBucket[], member: string, reserve = true): Promise<Take> {
    if (buckets.length === 0) return { ok: true };
    const keys = buckets.flatMap((bucket) => [tatKey(bucket), waitersKey(bucket)]);
    const args = buckets.flatMap((bucket) => [bucket.limit, bucket.windowMs]);
    const [full, retryAfterMs] = (await this.script('orchestratorRateTake')(keys.length, ...keys, member, reserve ? 1 : 0, ...args)) as [number, number];
    const bucket = buckets[full - 1];
    return full === 0 || !bucket ? { ok: true } : { ok: false, bucket, retryAfterMs: Math.max(0, retryAfterMs) };
  }

  /** Gives back the turns `take` took, which were not used after all. */
  async refund(buckets: readonly RateBucket[]): Promise<void> {
    if (buckets.length === 0) return;
    await this.script('orchestratorRateRefund')(buckets.length, ...buckets.map(tatKey), ...buckets.flatMap((bucket) => [bucket.limit, bucket.windowMs]));
  }

  /** How many more each bucket takes now. */
  async headroom(buckets: readonly RateBucket[]): Promise<number[]> {
    const headroom = this.script('orchestratorRateHeadroom');
    return Promise.all(buckets.map(async (bucket) => Number(await headroom(tatKey(bucket), bucket.limit, bucket.windowMs))));
  }
}
