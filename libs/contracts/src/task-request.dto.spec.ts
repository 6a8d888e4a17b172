import { describe, expect, it } from 'vitest';
import { TaskPriority } from './enums.js';
import { validateTaskRequest } from './task-request.dto.js';

describe('validateTaskRequest', () => {
  it('applies defaults and upper-cases the priority', () => {
    const result = validateTaskRequest({ task_id: 't-1', task_type: 'create_blog_post', priority: 'high' });
    expect(result).toEqual({
      ok: true,
      value: { task_id: 't-1', task_type: 'create_blog_post', payload: {}, priority: TaskPriority.High },
    });
  });

  it.each([
    [{ task_type: 'x' }, 'task_id: is required'],
    [{ task_id: 7, task_type: 'x' }, 'task_id: must be a string'],
    [{ task_id: 'a b', task_type: 'x' }, 'task_id: must be 1 to 128 characters without whitespace'],
    [{ task_id: 't', task_type: 'Bad Type' }, 'task_type: must match'],
    [{ task_id: 't', task_type: 'x', payload: [1] }, 'payload: must be a JSON object'],
    [{ task_id: 't', task_type: 'x', priority: 'urgent' }, 'priority: must be one of LOW, NORMAL, HIGH, CRITICAL'],
    [{ task_id: 't', task_type: 'x', requester_id: 'a.>' }, 'requester_id: must be an agent name'],
    [{ task_id: 't', task_type: 'x', created_at: 'now' }, 'created_at: must be a number'],
    [{ task_id: 't', task_type: 'x', not_before: '2030-01-01' }, 'not_before: must be a number of seconds since the epoch'],
    [{ task_id: 't', task_type: 'x', not_before: 1_900_000_000_000 }, 'not_before: must be seconds since the epoch, not milliseconds'],
    [{ task_id: 't', task_type: 'x', not_before: -1 }, 'not_before: must not be negative'],
    [[1, 2], 'request: must be a JSON object'],
    ['text', 'request: must be a JSON object'],
  ])('rejects %j naming the field', (input, message) => {
    const result = validateTaskRequest(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
  });

  it('keeps not_before, in seconds', () => {
    const result = validateTaskRequest({ task_id: 't', task_type: 'x', not_before: 1_900_000_000.5 });
    expect(result).toEqual({ ok: true, value: { task_id: 't', task_type: 'x', payload: {}, priority: 'NORMAL', not_before: 1_900_000_000.5 } });
  });

  it('leaves out top-level fields it does not know, as the contract says receivers do', () => {
    const result = validateTaskRequest({ task_id: 't', task_type: 'x', added_later: { by: 'another service' } });
    expect(result).toEqual({ ok: true, value: { task_id: 't', task_type: 'x', payload: {}, priority: 'NORMAL' } });
  });
});
