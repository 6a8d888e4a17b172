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

describe('HttpApi control and history routes', () => {
  it('posts retry and rerun to their routes and returns the answers', async () => {
    const retried = answering(200, { task_id: 'a/b', status: 'RUNNING', links: { self: '/tasks/a%2Fb' } });
    expect(await new HttpApi({ url: 'http://o', fetch: retried.fetch }).retry('a/b')).toMatchObject({ status: 'RUNNING' });
    expect(retried.sent[0]).toMatchObject({ url: 'http://o/tasks/a%2Fb/retry', init: { method: 'POST' } });

    const rerun = answering(202, { task_id: 'new', status: 'RUNNING', rerun_of: 'old', links: { self: '/tasks/new' } });
    expect(await new HttpApi({ url: 'http://o', fetch: rerun.fetch }).rerun('old')).toMatchObject({ task_id: 'new', rerun_of: 'old' });
    expect(rerun.sent[0]).toMatchObject({ url: 'http://o/tasks/old/rerun', init: { method: 'POST' } });
  });

  it('throws a 409 of retry with its code and the reason', async () => {
    const stub = answering(409, { code: 'TASK_NOT_RETRYABLE', message: 'task t is COMPLETED: only a FAILED or CANCELLED task can be retried', status: 'COMPLETED' });
    const error = await new HttpApi({ url: 'http://o', fetch: stub.fetch }).retry('t').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 409, code: 'TASK_NOT_RETRYABLE', message: 'task t is COMPLETED: only a FAILED or CANCELLED task can be retried' });
  });

  it('asks for a page of history after an event id', async () => {
    const stub = answering(200, { items: [], next_after: null });
    const api = new HttpApi({ url: 'http://o', fetch: stub.fetch });
    await api.history('t-1');
    await api.history('t-1', { after: 42, limit: 500 });
    expect(stub.sent.map((s) => s.url)).toEqual(['http://o/tasks/t-1/events', 'http://o/tasks/t-1/events?after=42&limit=500']);
  });

  it('reads agents and workflows', async () => {
    const stub = answering(200, { items: [{ name: 'llm_agent' }] });
    const api = new HttpApi({ url: 'http://o', fetch: stub.fetch });
    expect((await api.agents()).items).toEqual([{ name: 'llm_agent' }]);
    expect((await api.workflows()).items).toEqual([{ name: 'llm_agent' }]);
    expect(stub.sent.map((s) => s.url)).toEqual(['http://o/agents', 'http://o/workflows']);
  });
});

describe('HttpApi schedules', () => {
  it('sends each schedule call to its route, the id escaped, backfill times as ISO 8601', async () => {
    const stub = answering(200, { schedule_id: 'a/b' });
    const api = new HttpApi({ url: 'http://o', fetch: stub.fetch });
    await api.createSchedule({ schedule_id: 'a/b', task_type: 'report', every_ms: 60_000 });
    await api.updateSchedule('a/b', { cron: '0 8 * * *' });
    await api.pauseSchedule('a/b', true);
    await api.pauseSchedule('a/b', false);
    await api.triggerSchedule('a/b');
    await api.backfillSchedule('a/b', new Date(Date.UTC(2030, 0, 1)), 1_893_459_600_000);
    await api.deleteSchedule('a/b');
    expect(stub.sent.map((s) => `${String(s.init.method)} ${s.url}`)).toEqual([
      'POST http://o/schedules',
      'PATCH http://o/schedules/a%2Fb',
      'POST http://o/schedules/a%2Fb/pause',
      'POST http://o/schedules/a%2Fb/resume',
      'POST http://o/schedules/a%2Fb/trigger',
      'POST http://o/schedules/a%2Fb/backfill',
      'DELETE http://o/schedules/a%2Fb',
    ]);
    expect(JSON.parse(stub.sent[5]?.init.body as string)).toEqual({ from: '2030-01-01T00:00:00.000Z', to: 1_893_459_600_000 });
  });

  it('throws a refused schedule with its code and the field', async () => {
    const stub = answering(400, { code: 'INVALID_SCHEDULE', message: 'every_ms: must be a whole number of milliseconds from 1000 to 31536000000' });
    const error = await new HttpApi({ url: 'http://o', fetch: stub.fetch }).createSchedule({ schedule_id: 's', task_type: 'x', every_ms: 5 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, code: 'INVALID_SCHEDULE', field: 'every_ms' });
  });
});
