import { Inject, Injectable } from '@nestjs/common';
import { RATE_PERIODS_MS, type RateLimit } from '@orchestrator/contracts';
import { Redis } from 'ioredis';

/** One rate limit to keep: the bucket it counts in, and at most `limit` sub-tasks in any window of `windowMs`. */
export interface RateBucket {
  /** `agent:<name>`, or `step:<task_type>/<step>/<key>`. */
  name: string;
  limit: number;
  windowMs: number;
}

/** What taking from buckets gave: taken, or the first bucket that is full and how long until it may have room for this caller. */
export type Take = { ok: true } | { ok: false; bucket: RateBucket; retryAfterMs: number };

const logKey = (bucket: RateBucket): string => `orchestrator:rate:${bucket.name}`;
const promiseKey = (bucket: RateBucket): string => `orchestrator:rate:${bucket.name}:next`;
const waitersKey = (bucket: RateBucket): string => `orchestrator:rate:${bucket.name}:waiting`;

export function agentBucket(agent: string, rate: RateLimit): RateBucket {
  return { name: `agent:${agent}`, limit: rate.limit, windowMs: RATE_PERIODS_MS[rate.per] };
}

export function stepBucket(taskType: string, stepId: string, key: string | null, rate: RateLimit): RateBucket {
  return { name: `step:${taskType}/${stepId}${key === null ? '' : `/${key}`}`, limit: rate.limit, windowMs: RATE_PERIODS_MS[rate.per] };
}

/** The emission interval of a limit: one sub-task per this many milliseconds, on average. */
export function intervalMs(bucket: RateBucket): number {
  return bucket.windowMs / bucket.limit;
}

/**
 * A sliding-window log per bucket, on the Redis server's clock: a sorted set of the sub-tasks sent
 * in the last window, scored by when. A caller takes from every bucket or from none, at once: each
 * must hold fewer than its limit (a member already in a log is not counted twice). When one is full
 * the caller is told when to come back, and noted as waiting: a first-time waiter at the end of a
 * line of promises one emission interval apart (`<bucket>:next`), starting when the oldest entry
 * leaves the window, so that waiters come back spread out rather than all at once; a waiter that
 * came back and still found no room (another took it first) as soon as the oldest entry leaves,
 * without going to the end of the line again. A sub-task taken but not sent (no free slot after
 * all) is given back (`refund`).
 *
 * KEYS: for each bucket its log, its next promise and its waiters; ARGV: the member, then each bucket's limit and window.
 */
const TAKE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local member = ARGV[1]
local buckets = #KEYS / 3
local full, free_at = 0, 0
for i = 1, buckets do
  local log, limit, window = KEYS[3 * i - 2], tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
  if redis.call('ZSCORE', log, member) == false and redis.call('ZCARD', log) >= limit then
    local oldest = tonumber(redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')[2])
    if full == 0 or oldest + window > free_at then full, free_at = i, oldest + window end
  end
end
if full > 0 then
  local promises, waiters = KEYS[3 * full - 1], KEYS[3 * full]
  local limit, window = tonumber(ARGV[2 * full]), tonumber(ARGV[2 * full + 1])
  redis.call('ZREMRANGEBYSCORE', waiters, '-inf', now - 4 * window)
  local at = free_at
  if redis.call('ZSCORE', waiters, member) == false then
    at = math.max(free_at, tonumber(redis.call('GET', promises) or '0'))
    redis.call('SET', promises, tostring(at + window / limit), 'PX', math.ceil(at - now + 2 * window))
  end
  redis.call('ZADD', waiters, at, member)
  redis.call('PEXPIRE', waiters, math.ceil(at - now + 4 * window))
  return {full, math.ceil(at - now)}
end
for i = 1, buckets do
  local log, window = KEYS[3 * i - 2], tonumber(ARGV[2 * i + 1])
  redis.call('ZADD', log, now, member)
  redis.call('PEXPIRE', log, window)
  redis.call('ZREM', KEYS[3 * i], member)
end
return {0, 0}`;

/** How many more the bucket takes now: its limit less what its window holds. */
const HEADROOM = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
return tonumber(ARGV[1]) - redis.call('ZCOUNT', KEYS[1], '(' .. (now - tonumber(ARGV[2])), '+inf')`;

type Script = (...args: (string | number)[]) => Promise<unknown>;

/** Rate limits held by every replica together: one bucket per limit in Redis. */
@Injectable()
export class RateBuckets {
  constructor(@Inject(Redis) private readonly redis: Redis) {
    this.redis.defineCommand('orchestratorRateTake', { lua: TAKE });
    this.redis.defineCommand('orchestratorRateHeadroom', { numberOfKeys: 1, lua: HEADROOM });
  }

  private script(name: string): Script {
    const script = (this.redis as unknown as Record<string, Script | undefined>)[name];
    if (!script) throw new Error(`the Redis script ${name} is not defined`);
    return script.bind(this.redis);
  }

  /** Takes one from each bucket for `member` (a sub-task attempt), or from none. Throws when Redis is unreachable. */
  async take(buckets: readonly RateBucket[], member: string): Promise<Take> {
    if (buckets.length === 0) return { ok: true };
    const keys = buckets.flatMap((bucket) => [logKey(bucket), promiseKey(bucket), waitersKey(bucket)]);
    const args = buckets.flatMap((bucket) => [bucket.limit, bucket.windowMs]);
    const [full, retryAfterMs] = (await this.script('orchestratorRateTake')(keys.length, ...keys, member, ...args)) as [number, number];
    const bucket = buckets[full - 1];
    return full === 0 || !bucket ? { ok: true } : { ok: false, bucket, retryAfterMs: Math.max(0, retryAfterMs) };
  }

  /** Gives back what `take` took for `member`, which was not sent after all. */
  async refund(buckets: readonly RateBucket[], member: string): Promise<void> {
    if (buckets.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const bucket of buckets) pipeline.zrem(logKey(bucket), member);
    await pipeline.exec();
  }

  /** How many more each bucket takes now. */
  async headroom(buckets: readonly RateBucket[]): Promise<number[]> {
    const headroom = this.script('orchestratorRateHeadroom');
    return Promise.all(buckets.map(async (bucket) => Math.max(0, Number(await headroom(logKey(bucket), bucket.limit, bucket.windowMs)))));
  }
}
