import { vi } from 'vitest';

/** Two runs' worth of what a function might lean on without saying so: the clock and Math.random. */
const WORLDS = [
  { now: Date.parse('2001-02-03T04:05:06.007Z'), chance: 0.013 },
  { now: Date.parse('2039-11-28T21:42:53.999Z'), chance: 0.987 },
] as const;

/**
 * Runs `produce` once in each of two worlds, with another date and another Math.random each time,
 * and returns both results: a function that depends on its arguments alone gives equal ones.
 */
export function inTwoWorlds<T>(produce: () => T): [T, T] {
  const [first, second] = WORLDS.map(({ now, chance }) => {
    vi.useFakeTimers({ now, toFake: ['Date'] });
    vi.spyOn(Math, 'random').mockReturnValue(chance);
    try {
      return produce();
    } finally {
      vi.useRealTimers();
      vi.restoreAllMocks();
    }
  });
  if (first === undefined || second === undefined) throw new Error('two worlds, two results');
  return [first, second];
}
