import type { HistoryEvent } from '@orchestrator/contracts';
import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { isFinalEvent, progressBar, StepBoard } from './step-board.js';

let id = 0;
const at = (ms: number): string => new Date(Date.parse('2026-01-01T00:00:00.000Z') + ms).toISOString();
const ev = (ms: number, kind: string, step: string | null, data: Record<string, unknown> | null = null, status = 'RUNNING'): HistoryEvent =>
  ({ id: ++id, task_id: 't-1', task_type: 'wf', step_id: step, kind, status, at: at(ms), data }) as HistoryEvent;

describe('StepBoard', () => {
  it('follows steps through dispatch, retry, progress, for_each items, a skip and the end', () => {
    const board = new StepBoard('t-1');
    const lines = [
      ev(0, 'submitted', null),
      ev(0, 'planned', null, { steps: ['first', 'each', 'never', 'last'] }),
      ev(10, 'dispatched', 'first', { agent: 'w', attempt: 1 }),
      ev(20, 'answered', 'first', { agent: 'w', attempt: 1, status: 'FAILED', error: 'attempt 1 fails' }),
      ev(20, 'retried', 'first', { attempt: 2, backoff_ms: 50, error: 'attempt 1 fails' }),
    ].map((e) => board.apply(e));
    expect(lines[4]).toBe('+20ms     first             retried       attempt 2, in 50ms, error: attempt 1 fails');
    expect(board.steps.get('first')).toMatchObject({ phase: 'RETRYING', attempt: 1, error: 'attempt 1 fails' });

    board.apply(ev(80, 'dispatched', 'first', { agent: 'w', attempt: 2 }));
    board.apply(ev(90, 'progress', 'first', { fraction: 0.5, message: 'half', attempt: 2 }));
    expect(board.render(pc.createColors(false), Date.parse(at(100)))[1]).toBe('  first  RUNNING  w  attempt 2  90ms  [#####-----] 50% half');
    board.apply(ev(100, 'answered', 'first', { agent: 'w', attempt: 2, status: 'COMPLETED' }));
    board.apply(ev(100, 'skipped', 'never', { when: 'false' }));
    board.apply(ev(110, 'expanded', 'each', { items: 2 }));
    board.apply(ev(110, 'dispatched', 'each[0]', { agent: 'w', attempt: 1 }));
    board.apply(ev(110, 'dispatched', 'each[1]', { agent: 'w', attempt: 1 }));
    board.apply(ev(130, 'answered', 'each[0]', { agent: 'w', attempt: 1, status: 'COMPLETED' }));
    expect(board.render(pc.createColors(false), Date.parse(at(140)))[2]).toBe('  each   RUNNING                  30ms  1/2 items, 1 running');
    board.apply(ev(150, 'answered', 'each[1]', { agent: 'w', attempt: 1, status: 'COMPLETED' }));
    board.apply(ev(150, 'step_completed', 'each', { items: 2 }));
    board.apply(ev(160, 'dispatched', 'last', { agent: 'w', attempt: 1 }));
    const end = ev(200, 'failed', null, { error: 'step "last" failed' }, 'FAILED');
    expect(isFinalEvent(end)).toBe(true);
    board.apply(end);
    expect(board.status).toBe('FAILED');
    expect([...board.steps.values()].map((s) => [s.id, s.phase])).toEqual([
      ['first', 'COMPLETED'],
      ['each', 'COMPLETED'],
      ['never', 'SKIPPED'],
      ['last', 'CANCELLED'],
    ]);
    expect(board.render(pc.createColors(false))[0]).toBe('t-1  wf  FAILED  4/4 steps  200ms');
    expect(board.apply(ev(210, 'answer_sent', null, null, 'FAILED'))).toBeNull();

    // A retry resumes the workflow: its steps wait again, and the end is no longer the end.
    board.apply(ev(300, 'resumed', null, { was: 'FAILED', steps: ['last'] }));
    expect(board.steps.get('last')).toMatchObject({ phase: 'PENDING', endedAt: null });
    expect(board.endedAt).toBeNull();
  });

  it('draws progress bars within their bounds', () => {
    expect(progressBar(0)).toBe('[----------]');
    expect(progressBar(0.44)).toBe('[####------]');
    expect(progressBar(2)).toBe('[##########]');
  });
});
