import { describe, expect, it } from 'vitest';
import { parseProgressReport } from './progress-report.js';

describe('parseProgressReport', () => {
  it('reads a report with and without a message, ignoring unknown fields', () => {
    expect(parseProgressReport({ task_id: 'a:1', fraction: 0.5, message: 'half', extra: 1 })).toEqual({
      ok: true,
      value: { task_id: 'a:1', fraction: 0.5, message: 'half' },
    });
    expect(parseProgressReport({ task_id: 'a:1', fraction: 1 })).toEqual({ ok: true, value: { task_id: 'a:1', fraction: 1 } });
  });

  it('names the field that is wrong', () => {
    expect(parseProgressReport([])).toEqual({ ok: false, error: 'progress: must be a JSON object' });
    expect(parseProgressReport({ fraction: 0.1 })).toMatchObject({ ok: false, error: expect.stringMatching(/^task_id: /) as unknown });
    for (const fraction of [-0.1, 1.5, Number.NaN, '0.5', null]) {
      expect(parseProgressReport({ task_id: 'a:1', fraction })).toEqual({ ok: false, error: 'fraction: must be a number from 0 to 1' });
    }
    expect(parseProgressReport({ task_id: 'a:1', fraction: 0, message: 3 })).toEqual({ ok: false, error: 'message: must be a string' });
    expect(parseProgressReport({ task_id: 'a:1', fraction: 0, message: 'x'.repeat(501) })).toMatchObject({ ok: false });
  });
});
