import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './backoff.js';

describe('retryDelayMs', () => {
  const policy = { initial_ms: 100, max_ms: 1_000 };

  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1_000],
    [12, 1_000],
  ])('after %i failures stays below min(max, initial * 2^(n-1)) = %i', (failures, ceiling) => {
    const delays = Array.from({ length: 500 }, () => retryDelayMs(policy, failures));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(ceiling);
    // Full jitter spreads the delays over the whole range.
    expect(Math.max(...delays)).toBeGreaterThan(ceiling / 2);
  });
});
