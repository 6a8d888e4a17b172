import { TaskStatus } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { isSkippedRow, tallySteps, type TalliedRow } from './step-tally.js';

const at = new Date('2026-01-01T00:00:00.000Z');
const later = new Date('2026-01-01T00:00:01.000Z');
const row = (status: TaskStatus, fields: Partial<TalliedRow> = {}): TalliedRow => ({
  status,
  attempts: 1,
  item_count: null,
  started_at: at,
  completed_at: status === TaskStatus.Pending || status === TaskStatus.Running ? null : later,
  ...fields,
});

describe('tallySteps', () => {
  it('counts failed and cancelled steps apart from completed ones', () => {
    const rows = [row(TaskStatus.Completed), row(TaskStatus.Completed), row(TaskStatus.Failed), row(TaskStatus.Cancelled), row(TaskStatus.Cancelled)];
    expect(tallySteps(rows)).toEqual({ done: 2, skipped: 0, failed: 1, cancelled: 2, total: 5 });
  });

  it('counts a step skipped by its when apart, by its result or, unread, by its timings', () => {
    const skipped = row(TaskStatus.Completed, { attempts: 0, completed_at: at, result: { skipped: true, reason: 'when is false' } });
    const unread = row(TaskStatus.Completed, { attempts: 0, completed_at: at });
    const emptyList = row(TaskStatus.Completed, { attempts: 0, item_count: 0, completed_at: at });
    const ran = row(TaskStatus.Completed, { result: { skipped: true } });
    expect([skipped, unread, emptyList, ran].map(isSkippedRow)).toEqual([true, true, false, false]);
    expect(tallySteps([skipped, unread, emptyList, ran, row(TaskStatus.Running), row(TaskStatus.Pending)])).toEqual({
      done: 2,
      skipped: 2,
      failed: 0,
      cancelled: 0,
      total: 6,
    });
  });
});
