import { TaskStatus, type TaskDetailView } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { responseFromDetail, withTimeout } from './wait.js';

describe('responseFromDetail', () => {
  it('makes the final response of a finished task from its view', () => {
    const detail = {
      task_id: 't-1',
      status: TaskStatus.Failed,
      result: { steps: {} },
      error: 'step draft failed',
      completed_at: '2026-01-02T03:04:05.250Z',
    } as unknown as TaskDetailView;
    expect(responseFromDetail(detail)).toEqual({
      task_id: 't-1',
      status: 'FAILED',
      success: false,
      result: { steps: {} },
      error: 'step draft failed',
      completed_at: Date.parse('2026-01-02T03:04:05.250Z') / 1000,
    });
    expect(responseFromDetail({ ...detail, status: TaskStatus.Completed, error: null }).success).toBe(true);
  });
});

describe('withTimeout', () => {
  it('gives the value in time, and TIMEOUT naming the task after', async () => {
    expect(await withTimeout(Promise.resolve(7), 1_000, 't')).toBe(7);
    await expect(withTimeout(new Promise(() => undefined), 20, 't-9')).rejects.toMatchObject({ code: 'TIMEOUT', taskId: 't-9' });
  });

  it('stops at the signal with its reason', async () => {
    const controller = new AbortController();
    const waiting = withTimeout(new Promise(() => undefined), 10_000, 't');
    const aborted = withTimeout(new Promise(() => undefined), 10_000, 't', controller.signal);
    controller.abort(new Error('enough'));
    await expect(aborted).rejects.toThrow('enough');
    void waiting.catch(() => undefined);
  });
});
