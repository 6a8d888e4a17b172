import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROGRESS_WINDOW_MS, ProgressCoalescer } from './progress-coalescer.js';

describe('ProgressCoalescer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('applies the first report at once and only the latest of those that came within the window after it', async () => {
    const coalescer = new ProgressCoalescer();
    const applied: string[] = [];
    const apply = (report: string): Promise<void> => {
      applied.push(report);
      return Promise.resolve();
    };
    for (let i = 0; i < 50; i++) coalescer.offer('agent/task:1', `a${i}`, apply);
    coalescer.offer('agent/task:2', 'b0', apply);
    expect(applied).toEqual(['a0', 'b0']);
    await vi.advanceTimersByTimeAsync(PROGRESS_WINDOW_MS);
    expect(applied).toEqual(['a0', 'b0', 'a49']);
    // The latest opened a window of its own: what comes in it waits for its end.
    coalescer.offer('agent/task:1', 'a50', apply);
    expect(applied).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(PROGRESS_WINDOW_MS);
    expect(applied).toEqual(['a0', 'b0', 'a49', 'a50']);
    await vi.advanceTimersByTimeAsync(PROGRESS_WINDOW_MS * 2);
    coalescer.offer('agent/task:1', 'a51', apply);
    expect(applied.at(-1)).toBe('a51');
  });
});
