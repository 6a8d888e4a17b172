import { ErrorCode, TaskStatus, failedResponse, refusalResponse } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { fieldOf, httpError, natsRejection, retryAfterMs } from './orchestrator-error.js';

const headers = (values: Record<string, string> = {}): { get(name: string): string | null } => ({ get: (name) => values[name] ?? null });

describe('fieldOf', () => {
  it.each([
    ['payload.topic: is required', 'payload.topic'],
    ['task_type: must match ^[a-z0-9][a-z0-9_.-]{0,63}$; priority: must be one of LOW', 'task_type'],
    ['payload.items[3].name: contains a NUL character (\\u0000)', 'payload.items[3].name'],
    ['task_id: "x" is already used by a different request', 'task_id'],
    ['limit must not be greater than 100', 'limit'],
    ['status must be one of PENDING, RUNNING', 'status'],
  ])('finds the field of %j', (message, field) => {
    expect(fieldOf(message)).toBe(field);
  });

  it('finds none in a message that names no field', () => {
    expect(fieldOf('the orchestrator could not accept the task right now')).toBeUndefined();
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterMs('1')).toBe(1000);
    expect(retryAfterMs('0.5')).toBe(500);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(5000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});

describe('httpError', () => {
  it('keeps the server message, code, status and field of a 400', () => {
    const error = httpError(400, { code: 'INVALID_REQUEST', message: 'payload.topic: is required', task_id: 't-1' }, headers());
    expect(error).toMatchObject({ name: 'OrchestratorError', message: 'payload.topic: is required', code: 'INVALID_REQUEST', status: 400, field: 'payload.topic', taskId: 't-1' });
  });

  it('gives the wait a 503 asks for', () => {
    const error = httpError(503, { code: 'OVERLOADED', message: 'overloaded: submit it again' }, headers({ 'retry-after': '1' }));
    expect(error).toMatchObject({ code: 'OVERLOADED', status: 503, retryAfterMs: 1000 });
    expect(error.field).toBeUndefined();
  });

  it('names a body that is not the API error shape', () => {
    expect(httpError(502, 'Bad Gateway', headers())).toMatchObject({ code: 'HTTP_502', status: 502, message: 'HTTP 502: Bad Gateway' });
  });
});

describe('natsRejection', () => {
  it('takes the code the orchestrator sends, the same as over HTTP', () => {
    const error = natsRejection(refusalResponse('t-1', 'payload.topic: is required', ErrorCode.InvalidPayload));
    expect(error).toMatchObject({ code: 'INVALID_PAYLOAD', field: 'payload.topic', taskId: 't-1' });
  });

  // An orchestrator that sends no error_code: the code is read from the message.
  it.each([
    ['payload.topic: is required', 'INVALID_REQUEST', 'payload.topic'],
    ['task_id: "t-1" is already used by a different request', 'TASK_ID_CONFLICT', 'task_id'],
    ['overloaded: submit it again', 'OVERLOADED', undefined],
    ['the orchestrator could not accept the task right now; submit it again', 'UNAVAILABLE', undefined],
  ])('codes %j as %s', (message, code, field) => {
    const response = failedResponse('t-1', message);
    const error = natsRejection(response);
    expect(error).toMatchObject({ message, code, taskId: 't-1', response: { status: TaskStatus.Failed } });
    expect(error.field).toBe(field);
    expect(error.status).toBeUndefined();
  });
});
