import { describe, expect, it } from 'vitest';
import { AnswerCache } from './answer-cache.js';

describe('AnswerCache', () => {
  it('keeps the most recently set entries, evicting the oldest', () => {
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
    expect(cache.has('c')).toBe(false);
    expect(cache.get('b')).toBe(20);
    expect(cache.size).toBe(2);
  });

  it('stays within its capacity under many distinct keys', () => {
    const cache = new AnswerCache<number>(10_000);
    for (let i = 0; i < 25_000; i += 1) cache.set(`task-${i}`, i);
    expect(cache.size).toBe(10_000);
    expect(cache.has('task-14999')).toBe(false);
    expect(cache.get('task-15000')).toBe(15_000);
    expect(cache.get('task-24999')).toBe(24_999);
  });

  it('forgets a deleted key', () => {
    const cache = new AnswerCache<boolean>(3);
    cache.set('x', true);
    expect(cache.delete('x')).toBe(true);
    expect(cache.delete('x')).toBe(false);
    expect(cache.has('x')).toBe(false);
  });
});
