import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentBucket, RateBuckets, stepBucket, type RateBucket, type Take } from '../apps/orchestrator/src/registry/rate-buckets.service.js';
import { testEnv } from './support/test-env.js';

/** The rate limits' shared buckets (GCRA in Redis), on the test Redis: what two replicas would do at once, from two connections. */
describe('rate buckets', () => {
  let one: Redis;
  let two: Redis;
  let a: RateBuckets;
  let b: RateBuckets;
  let n = 0;
  const fresh = (limit: number, windowMs: number): RateBucket => ({ name: `test:${Date.now()}:${(n += 1)}`, limit, windowMs });
  const waitOf = (take: Take): number => (take.ok ? 0 : take.retryAfterMs);

  beforeAll(() => {
    one = new Redis(testEnv().redisUrl);
    two = new Redis(testEnv().redisUrl);
    a = new RateBuckets(one);
    b = new RateBuckets(two);
  });
  afterAll(() => {
    one.disconnect();
    two.disconnect();
  });

  it('names buckets per agent and per step and key, with their window', () => {
    expect(agentBucket('llm_agent', { limit: 60, per: 'minute' })).toEqual({ name: 'agent:llm_agent', limit: 60, windowMs: 60_000 });
    expect(stepBucket('report', 'draft', null, { limit: 5, per: 'second' }).name).toBe('step:report/draft');
    expect(stepBucket('report', 'draft', 'acme', { limit: 5, per: 'hour' })).toEqual({ name: 'step:report/draft/acme', limit: 5, windowMs: 3_600_000 });
  });

  it('takes `limit` at once after a quiet spell, whichever replica asks, then keeps a turn for each waiter one interval apart', async () => {
    const bucket = fresh(5, 1_000);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).take([bucket], `m${i}`)));
    expect(answers.filter((answer) => answer.ok)).toHaveLength(5);
    const waits = answers.filter((answer) => !answer.ok).map(waitOf).sort((x, y) => x - y);
    // Their turns: 200, 400, ... 1400 ms on (1000 / 5), each measured from its own call, a few ms apart.
    expect(waits).toHaveLength(7);
    waits.forEach((wait, i) => expect(Math.abs(wait - 200 * (i + 1))).toBeLessThanOrEqual(40));
    expect(await a.headroom([bucket])).toEqual([0]);
  });

  it('lets a waiter that comes back for its turn go without taking again, and keeps that turn from a newcomer', async () => {
    const bucket = fresh(2, 600);
    expect(await a.take([bucket], 'first')).toEqual({ ok: true });
    expect(await a.take([bucket], 'second')).toEqual({ ok: true });
    const waiter = await b.take([bucket], 'waiter');
    expect(waiter.ok).toBe(false);
    // Too early: told to come back at its turn, which stays kept.
    const early = await b.take([bucket], 'waiter');
    expect(Math.abs(waitOf(early) - waitOf(waiter))).toBeLessThanOrEqual(40);
    await sleep(waitOf(waiter));
    // A newcomer now finds the turn taken (its own is the next one), the waiter goes.
    const newcomer = await a.take([bucket], 'newcomer');
    expect(waitOf(newcomer)).toBeGreaterThan(200);
    expect(await b.take([bucket], 'waiter')).toEqual({ ok: true });
  });

  it('tells a candidate it may pass over when there will be room, without keeping a turn for it', async () => {
    const bucket = fresh(1, 1_000);
    expect(await a.take([bucket], 'x')).toEqual({ ok: true });
    const peek = await a.take([bucket], 'y', false);
    const again = await a.take([bucket], 'z', false);
    expect(Math.abs(waitOf(peek) - waitOf(again))).toBeLessThanOrEqual(20);
    expect(await a.headroom([bucket])).toEqual([0]);
  });

  it('holds the rate over time, sub-tasks sent late keeping their turn: about `limit` per window', async () => {
    const bucket = fresh(3, 300);
    const taken: number[] = [];
    const started = Date.now();
    while (Date.now() - started < 1_500) {
      if ((await a.take([bucket], `t${Date.now()}-${Math.random()}`, false)).ok) taken.push(Date.now());
      await sleep(5);
    }
    // 3 at once, then one per 100 ms: 3 + 15 in 1.5 s, give or take the edges.
    expect(taken.length).toBeGreaterThanOrEqual(15);
    expect(taken.length).toBeLessThanOrEqual(19);
    // A token bucket: no span of time holds more than the bucket (3) and what refills in it (one per 100 ms).
    for (const at of taken) {
      for (const span of [100, 300, 700]) expect(taken.filter((other) => other >= at && other < at + span).length).toBeLessThanOrEqual(3 + Math.floor(span / 100));
    }
  });

  it('takes from several buckets at once or from none, names the full one, and gives back a refund', async () => {
    const agent = fresh(10, 1_000);
    const step = fresh(1, 1_000);
    expect(await a.take([agent, step], 'x1')).toEqual({ ok: true });
    const refused = await a.take([agent, step], 'x2', false);
    expect(refused).toMatchObject({ ok: false, bucket: step });
    // Nothing was taken from the agent's bucket for the refused one.
    expect(await a.headroom([agent, step])).toEqual([9, 0]);
    await a.refund([agent, step]);
    expect(await b.headroom([agent, step])).toEqual([10, 1]);
    expect(await b.take([agent, step], 'x2')).toEqual({ ok: true });
  });
});
