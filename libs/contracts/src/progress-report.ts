import { isPlainObject } from './validation.js';

/** The longest progress message kept. */
export const MAX_PROGRESS_MESSAGE_CHARS = 500;

/** What an agent publishes on `agent.<name>.progress` while it works on a sub-task (CONTRACT.md). */
export interface ProgressReport {
  /** The sub-task's task_id as the agent received it. */
  task_id: string;
  /** How much of the sub-task is done, from 0 to 1. */
  fraction: number;
  message?: string;
}

/** Reads a progress report; the error names the field. Unknown fields are ignored. */
export function parseProgressReport(input: unknown): { ok: true; value: ProgressReport } | { ok: false; error: string } {
  if (!isPlainObject(input)) return { ok: false, error: 'progress: must be a JSON object' };
  const { task_id, fraction, message } = input;
  if (typeof task_id !== 'string' || task_id.length === 0 || task_id.length > 256) {
    return { ok: false, error: 'task_id: is required: the sub-task task_id as received' };
  }
  if (typeof fraction !== 'number' || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
    return { ok: false, error: 'fraction: must be a number from 0 to 1' };
  }
  if (message !== undefined && message !== null && typeof message !== 'string') return { ok: false, error: 'message: must be a string' };
  if (typeof message === 'string' && message.length > MAX_PROGRESS_MESSAGE_CHARS) {
    return { ok: false, error: `message: at most ${MAX_PROGRESS_MESSAGE_CHARS} characters` };
  }
  return { ok: true, value: { task_id, fraction, ...(typeof message === 'string' ? { message } : {}) } };
}
