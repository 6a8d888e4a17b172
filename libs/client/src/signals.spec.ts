import { SignalStatus } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { HttpApi } from './http-api.js';
import { approvalPayload, signalRefusal } from './signals.js';

describe('signals', () => {
  it('sends an approval as the signal approval with { approved, comment? }, or under the signal asked for', () => {
    expect(approvalPayload(true, { comment: 'ok' })).toEqual({ signal: 'approval', payload: { approved: true, comment: 'ok' } });
    expect(approvalPayload(false, { signal: 'sign_off' })).toEqual({ signal: 'sign_off', payload: { approved: false } });
  });

  it('turns a refusal over NATS into an error with its code and the field it names', () => {
    const error = signalRefusal({ task_id: 't', signal: 'approval', status: SignalStatus.Refused, error: 'payload.approved: is required', code: 'INVALID_PAYLOAD' });
    expect({ code: error.code, field: error.field, taskId: error.taskId, message: error.message }).toEqual({
      code: 'INVALID_PAYLOAD',
      field: 'payload.approved',
      taskId: 't',
      message: 'payload.approved: is required',
    });
    expect(signalRefusal({ task_id: 't', signal: 'approval', status: SignalStatus.Refused, error: 'task t has already finished as COMPLETED', code: 'TASK_FINISHED' }).field).toBeUndefined();
  });

  it('posts a signal with its signal_id as Idempotency-Key, and maps a 400 to the field', async () => {
    const sent: { url: string; init: RequestInit }[] = [];
    const fetchStub = ((url: string, init?: RequestInit) => {
      sent.push({ url, init: init ?? {} });
      return Promise.resolve(new Response(JSON.stringify({ code: 'INVALID_PAYLOAD', message: 'payload.approved: must be a boolean' }), { status: 400 }));
    }) as typeof fetch;
    const api = new HttpApi({ url: 'http://o', fetch: fetchStub });
    await expect(api.signal('post 1', 'approval', { approved: 'yes' }, { signalId: 'd-1' })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD', status: 400, field: 'payload.approved' });
    expect(sent[0]?.url).toBe('http://o/tasks/post%201/signals/approval');
    expect((sent[0]?.init.headers as Record<string, string>)['idempotency-key']).toBe('d-1');
    expect(JSON.parse(sent[0]?.init.body as string)).toEqual({ approved: 'yes' });
  });
});
