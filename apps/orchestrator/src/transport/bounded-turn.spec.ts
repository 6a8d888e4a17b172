import { describe, expect, it } from 'vitest';
import { BoundedTurn } from './bounded-turn.js';

function gate(): { wait: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe('BoundedTurn', () => {
  it('runs up to its concurrency at once and lets a bounded number wait', async () => {
    const turn = new BoundedTurn(2, 3, 1_000);
    const g = gate();
    const runs = Array.from({ length: 7 }, () => turn.run(10, () => g.wait.then(() => 'done')));
    expect(runs.map((r) => (r === 'full' ? 'full' : 'queued'))).toEqual(['queued', 'queued', 'queued', 'queued', 'queued', 'full', 'full']);
    expect(turn.waiting).toEqual({ count: 3, bytes: 30 });
    g.open();
    expect(await Promise.all(runs.filter((r) => r !== 'full'))).toEqual(['done', 'done', 'done', 'done', 'done']);
    expect(turn.waiting).toEqual({ count: 0, bytes: 0 });
  });

  it('refuses a job whose bytes would overfill the line', () => {
    const turn = new BoundedTurn(1, 100, 100);
    const g = gate();
    expect(turn.run(60, () => g.wait)).not.toBe('full');
    expect(turn.run(60, () => g.wait)).not.toBe('full');
    expect(turn.run(50, () => g.wait)).toBe('full');
    expect(turn.run(40, () => g.wait)).not.toBe('full');
    g.open();
  });

  it('lets a held job wait past the line, counted among those waiting', async () => {
    const turn = new BoundedTurn(1, 1, 1_000);
    const g = gate();
    const running = turn.run(10, () => g.wait.then(() => 'running'));
    const waiting = turn.run(10, () => Promise.resolve('waiting'));
    expect(turn.run(10, () => Promise.resolve('refused'))).toBe('full');
    const held = turn.run(10, () => Promise.resolve('held'), true);
    expect(held).not.toBe('full');
    expect(turn.waiting).toEqual({ count: 2, bytes: 20 });
    g.open();
    expect(await Promise.all([running, waiting, held])).toEqual(['running', 'waiting', 'held']);
  });
});
