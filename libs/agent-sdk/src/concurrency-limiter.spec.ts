import { describe, expect, it } from 'vitest';
import { AnswerCache } from './answer-cache.js';
import { ConcurrencyLimiter, JobDroppedError } from './concurrency-limiter.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ConcurrencyLimiter', () => {
  it('runs at most `limit` jobs at once, the rest in arrival order', async () => {
    const limiter = new ConcurrencyLimiter(2);
    const gates = [deferred(), deferred(), deferred()];
    const order: number[] = [];
    const jobs = gates.map((gate, i) =>
      limiter.run(`job-${i}`, async () => {
        order.push(i);
        await gate.promise;
        return i;
      }),
    );
    await Promise.resolve();
    expect(limiter.active).toBe(2);
    expect(limiter.queued).toBe(1);
    expect(order).toEqual([0, 1]);
    gates[1]?.resolve();
    await jobs[1];
    await Promise.resolve();
    expect(order).toEqual([0, 1, 2]);
    gates[0]?.resolve();
    gates[2]?.resolve();
    expect(await Promise.all(jobs)).toEqual([0, 1, 2]);
    expect(limiter.active).toBe(0);
  });

  it('drops a waiting job, rejecting it, and leaves running ones alone', async () => {
    const limiter = new ConcurrencyLimiter(1);
    const gate = deferred();
    const running = limiter.run('a', () => gate.promise);
    const waiting = limiter.run('b', () => Promise.resolve());
    expect(limiter.drop('a')).toBe(false);
    expect(limiter.drop('b')).toBe(true);
    await expect(waiting).rejects.toBeInstanceOf(JobDroppedError);
    gate.resolve();
    await running;
  });
});

describe('AnswerCache', () => {
  it('keeps the most recent answers, evicting the oldest', () => {
    const cache = new AnswerCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe(2);
    expect(cache.get('c')).toBe(3);
    cache.set('b', 20);
    cache.set('d', 4);
    expect(cache.get('c')).toBeUndefined();
    expect(cache.get('b')).toBe(20);
    expect(cache.size).toBe(2);
  });
});
