import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentBucket, RateBuckets, stepBucket, type RateBucket } from '../apps/orchestrator/src/registry/rate-buckets.service.js';
import { testEnv } from './support/test-env.js';

/** The rate limits' shared buckets, on the test Redis: what two replicas would do at once, from two connections. */
describe('rate buckets (sliding window log in Redis)', () => {
  let one: Redis;
  let two: Redis;
  let a: RateBuckets;
  let b: RateBuckets;
  let n = 0;
  const fresh = (limit: number, windowMs: number): RateBucket => ({ name: `test:${Date.now()}:${(n += 1)}`, limit, windowMs });

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

  it('takes exactly `limit` in a window, whichever replica asks, then tells waiters to come back one interval apart', async () => {
    const bucket = fresh(5, 1_000);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).take([bucket], `m${i}`)));
    expect(answers.filter((answer) => answer.ok)).toHaveLength(5);
    const waits = answers.flatMap((answer) => (answer.ok ? [] : [answer.retryAfterMs])).sort((x, y) => x - y);
    expect(waits).toHaveLength(7);
    // The first comes back when the window has room (within the second), each next 200 ms (1000 / 5)
    // later (measured from each call's own moment: a few milliseconds apart).
    expect(waits[0]).toBeGreaterThan(700);
    expect(waits[0]).toBeLessThanOrEqual(1_000);
    for (let i = 1; i < waits.length; i += 1) expect(Math.abs((waits[i] ?? 0) - (waits[i - 1] ?? 0) - 200)).toBeLessThanOrEqual(30);
    expect(await a.headroom([bucket])).toEqual([0]);
  });

  it('tells a waiter that came back and still found no room to come back when the oldest entry leaves, not at the end of the line', async () => {
    const bucket = fresh(2, 1_000);
    expect(await a.take([bucket], 'held-1')).toEqual({ ok: true });
    expect(await a.take([bucket], 'held-2')).toEqual({ ok: true });
    const first = await a.take([bucket], 'waiter');
    const others = await Promise.all(['w2', 'w3', 'w4'].map((m) => b.take([bucket], m)));
    const line = others.map((answer) => (answer.ok ? 0 : answer.retryAfterMs));
    // Back again (early): told the oldest entry's expiry, about the same time as at first.
    const again = await b.take([bucket], 'waiter');
    expect(first.ok || again.ok).toBe(false);
    const firstWait = first.ok ? 0 : first.retryAfterMs;
    const againWait = again.ok ? 0 : again.retryAfterMs;
    expect(Math.abs(againWait - firstWait)).toBeLessThanOrEqual(30);
    // The line did not grow for it: the next newcomer comes after w4, one interval (500 ms) on.
    const next = await a.take([bucket], 'w5');
    expect(next.ok ? 0 : next.retryAfterMs).toBeGreaterThanOrEqual((line[2] ?? 0) + 450);
    expect(next.ok ? 0 : next.retryAfterMs).toBeLessThanOrEqual((line[2] ?? 0) + 530);
  });

  it('has room again as entries leave the window, and never more than `limit` in any window', async () => {
    const bucket = fresh(3, 300);
    const taken: number[] = [];
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      if ((await a.take([bucket], `t${Date.now()}-${Math.random()}`)).ok) taken.push(Date.now());
      await sleep(5);
    }
    // Over 1.5 s of 300 ms windows: 3 per window.
    expect(taken.length).toBeGreaterThanOrEqual(12);
    expect(taken.length).toBeLessThanOrEqual(18);
    for (const at of taken) expect(taken.filter((other) => other >= at && other < at + 290).length).toBeLessThanOrEqual(3);
  });

  it('takes from several buckets at once or from none, names the full one, and gives back a refund', async () => {
    const agent = fresh(10, 1_000);
    const step = fresh(1, 1_000);
    expect(await a.take([agent, step], 'x1')).toEqual({ ok: true });
    const refused = await a.take([agent, step], 'x2');
    expect(refused).toMatchObject({ ok: false, bucket: step });
    // Nothing was taken from the agent's bucket for the refused one.
    expect(await a.headroom([agent, step])).toEqual([9, 0]);
    await a.refund([agent, step], 'x1');
    expect(await b.headroom([agent, step])).toEqual([10, 1]);
    expect(await b.take([agent, step], 'x2')).toEqual({ ok: true });
    // The same member taking again (a repeated dispatch of one attempt) is not counted twice.
    expect(await b.take([agent, step], 'x2')).toEqual({ ok: true });
    expect(await b.headroom([agent])).toEqual([9]);
  });
});
