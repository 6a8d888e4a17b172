import { afterEach, describe, expect, it, vi } from 'vitest';
import { TransitionStalledError, withinStallLimit } from './transition-runner.js';

describe('withinStallLimit', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives what the work gives when it settles in time', async () => {
    await expect(withinStallLimit(Promise.resolve('changes'), 1_000)).resolves.toBe('changes');
    await expect(withinStallLimit(Promise.reject(new Error('refused')), 1_000)).rejects.toThrow('refused');
  });

  it('fails with TransitionStalledError once the limit passes, and drops what the work does later', async () => {
    vi.useFakeTimers();
    let fail: (error: Error) => void = () => undefined;
    const hanging = new Promise<string>((_, reject) => (fail = reject));
    const limited = withinStallLimit(hanging, 30_000);
    const outcome = limited.then(
      () => 'settled',
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(29_999);
    expect(await Promise.race([outcome, Promise.resolve('pending')])).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(TransitionStalledError);
    expect((error as Error).message).toContain('30000 ms');
    // A later failure of the abandoned work is no unhandled rejection.
    fail(new Error('query runner already released'));
    await vi.advanceTimersByTimeAsync(0);
  });

  it('waits without limit at 0', async () => {
    vi.useFakeTimers();
    let finish: (value: string) => void = () => undefined;
    const limited = withinStallLimit(new Promise<string>((resolve) => (finish = resolve)), 0);
    await vi.advanceTimersByTimeAsync(3_600_000);
    finish('late');
    await expect(limited).resolves.toBe('late');
  });
});
