import { describe, expect, it } from 'vitest';
import { HttpApi, listQuery } from './http-api.js';
import { OrchestratorError } from './orchestrator-error.js';

interface Sent {
  url: string;
  init: RequestInit;
}

/** A fetch answering `status` with `body`, recording what it was asked. */
function answering(status: number, body: unknown, headers: Record<string, string> = {}): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetchStub = ((url: string, init?: RequestInit) => {
    sent.push({ url, init: init ?? {} });
    return Promise.resolve(new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers }));
  }) as typeof fetch;
  return { fetch: fetchStub, sent };
}

describe('listQuery', () => {
  it('sends only the filters given', () => {
    expect(listQuery({})).toBe('');
    expect(listQuery({ status: 'RUNNING', limit: 5 })).toBe('?status=RUNNING&limit=5');
    expect(listQuery({ task_type: 'create_blog_post', cursor: 'abc_-1', count: true })).toBe('?task_type=create_blog_post&cursor=abc_-1&count=true');
  });
});

describe('HttpApi', () => {
  it('sends the API key and the body, and tells a new task from a known one by the status', async () => {
    const accepted = answering(202, { task_id: 't-1', status: 'RUNNING', links: { self: '/tasks/t-1' } });
    const api = new HttpApi({ url: 'http://orchestrator:3000/', apiKey: 'k'.repeat(20), fetch: accepted.fetch });
    expect(await api.submit({ task_id: 't-1', task_type: 'x' })).toMatchObject({ task_id: 't-1', existing: false });
    expect(accepted.sent[0]?.url).toBe('http://orchestrator:3000/tasks');
    expect(accepted.sent[0]?.init.method).toBe('POST');
    expect((accepted.sent[0]?.init.headers as Record<string, string>)['x-api-key']).toBe('k'.repeat(20));
    expect(JSON.parse(accepted.sent[0]?.init.body as string)).toEqual({ task_id: 't-1', task_type: 'x' });

    const known = answering(200, { task_id: 't-1', status: 'COMPLETED', links: { self: '/tasks/t-1' } });
    expect(await new HttpApi({ url: 'http://o', fetch: known.fetch }).submit({ task_id: 't-1', task_type: 'x' })).toMatchObject({ existing: true, status: 'COMPLETED' });
  });

  it('escapes the task id in paths', async () => {
    const stub = answering(200, { task_id: 'a/b', status: 'CANCELLED' });
    await new HttpApi({ url: 'http://o', fetch: stub.fetch }).cancel('a/b');
    expect(stub.sent[0]?.url).toBe('http://o/tasks/a%2Fb/cancel');
  });

  it('throws the server error with its status and code', async () => {
    const stub = answering(404, { code: 'TASK_NOT_FOUND', message: 'no task with task_id "nope"' });
    const error = await new HttpApi({ url: 'http://o', fetch: stub.fetch }).get('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrchestratorError);
    expect(error).toMatchObject({ status: 404, code: 'TASK_NOT_FOUND', message: 'no task with task_id "nope"' });
  });

  it('says where it could not connect', async () => {
    const refusing = (() => Promise.reject(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') }))) as typeof fetch;
    const error = await new HttpApi({ url: 'http://127.0.0.1:1', fetch: refusing }).list().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', message: 'GET http://127.0.0.1:1/tasks: connect ECONNREFUSED 127.0.0.1:1' });
  });
});
