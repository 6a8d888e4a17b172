import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter, JobDroppedError } from './concurrency-limiter.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ConcurrencyLimiter', () => {
  it('runs at most `limit` jobs at once, the rest in arrival order', async () => {
    const limiter = new ConcurrencyLimiter(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
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
    expect(limiter.queued).toBe(2);
    expect(order).toEqual([0, 1]);
    gates[1]?.resolve();
    await jobs[1];
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([0, 1, 2]);
    expect(limiter.active).toBe(2);
    for (const gate of gates) gate.resolve();
    expect(await Promise.all(jobs)).toEqual([0, 1, 2, 3]);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(limiter.active).toBe(0);
  });

  it('frees the slot of a job that throws, even synchronously, and rejects its promise', async () => {
    const limiter = new ConcurrencyLimiter(1);
    const sync = limiter.run('sync', () => {
      throw new Error('sync boom');
    });
    const next = limiter.run('next', () => Promise.resolve('ran'));
    await expect(sync).rejects.toThrow('sync boom');
    await expect(next).resolves.toBe('ran');
    expect(limiter.active).toBe(0);
  });

  it('drops a waiting job, rejecting it, and leaves running ones alone', async () => {
    const limiter = new ConcurrencyLimiter(1);
    const gate = deferred();
    let waitingRan = false;
    const running = limiter.run('a', () => gate.promise);
    const waiting = limiter.run('b', () => {
      waitingRan = true;
      return Promise.resolve();
    });
    expect(limiter.drop('a')).toBe(false);
    expect(limiter.drop('b')).toBe(true);
    expect(limiter.drop('b')).toBe(false);
    await expect(waiting).rejects.toBeInstanceOf(JobDroppedError);
    gate.resolve();
    await running;
    expect(waitingRan).toBe(false);
    expect(limiter.queued).toBe(0);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new ConcurrencyLimiter(0)).toThrow(RangeError);
    expect(() => new ConcurrencyLimiter(1.5)).toThrow(RangeError);
  });
});
