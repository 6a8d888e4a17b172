import { agentResponseSubject, ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { useTestStack } from './support/test-stack.js';

const LIMIT = 4096;

/** What is wrong, the request, what the error says, and its code (the same over NATS and HTTP). */
const CASES: [string, unknown, string, string][] = [
  ['a body that is not JSON', '{"task_id": "x", ', 'message: is not valid JSON', 'INVALID_REQUEST'],
  ['a JSON array', [1, 2, 3], 'request: must be a JSON object', 'INVALID_REQUEST'],
  ['a JSON string', '"create_blog_post"', 'request: must be a JSON object', 'INVALID_REQUEST'],
  ['a missing task_type', { task_id: 'bad-0', payload: { topic: 't' } }, 'task_type: is required', 'INVALID_REQUEST'],
  ['a task_id with whitespace', { task_id: 'a b', task_type: 'create_blog_post' }, 'task_id: must be 1 to 128 characters without whitespace', 'INVALID_REQUEST'],
  ['a mistyped task_type', { task_id: 'bad-1', task_type: 42 }, 'task_type: must be a string', 'INVALID_REQUEST'],
  ['an unknown priority', { task_id: 'bad-2', task_type: 'create_blog_post', priority: 'urgent' }, 'priority: must be one of LOW, NORMAL, HIGH, CRITICAL', 'INVALID_REQUEST'],
  ['a payload that is a list', { task_id: 'bad-3', task_type: 'create_blog_post', payload: ['topic'] }, 'payload: must be a JSON object', 'INVALID_REQUEST'],
  ['an unknown task_type', { task_id: 'bad-4', task_type: 'no_such_workflow' }, 'task_type: no workflow is defined for "no_such_workflow"', 'UNKNOWN_TASK_TYPE'],
  ['a payload without its required field', { task_id: 'bad-5', task_type: 'create_blog_post', payload: {} }, 'payload.topic: is required', 'INVALID_PAYLOAD'],
  ['a payload field of the wrong type', { task_id: 'bad-6', task_type: 'create_blog_post', payload: { topic: 7 } }, 'payload.topic: must be a string', 'INVALID_PAYLOAD'],
  ['a hostile requester_id', { task_id: 'bad-7', task_type: 'create_blog_post', payload: { topic: 't' }, requester_id: 'a.>' }, 'requester_id: must be an agent name', 'INVALID_REQUEST'],
  ['a payload with a NUL character', { task_id: 'bad-8', task_type: 'create_blog_post', payload: { topic: 'a\u0000b' } }, 'payload.topic: contains a NUL character', 'INVALID_REQUEST'],
  ['a payload with half of a surrogate pair', { task_id: 'bad-11', task_type: 'create_blog_post', payload: { topic: 'a\ud800' } }, 'payload.topic: contains an unpaired UTF-16 surrogate', 'INVALID_REQUEST'],
  // Written out: serializing it would overflow this process's stack (the orchestrator's check does not recurse).
  ['a payload nested 1,000 deep', `{"task_id":"bad-12","task_type":"create_blog_post","payload":{"topic":"t","deep":${'['.repeat(1_000)}${']'.repeat(1_000)}}}`, 'is nested deeper than 64 levels', 'INVALID_REQUEST'],
  ["Nest's own envelope", { pattern: ORCHESTRATOR_TASK_SUBJECT, data: { task_id: 'bad-9', task_type: 'create_blog_post' }, id: '1' }, 'task_type: is required', 'INVALID_REQUEST'],
  ['a payload over the size limit', { task_id: 'bad-10', task_type: 'create_blog_post', payload: { topic: 'x'.repeat(LIMIT) } }, `exceeds the limit of ${LIMIT} bytes`, 'PAYLOAD_TOO_LARGE'],
];

describe('bad input', () => {
  const stack = useTestStack({ env: { MAX_MESSAGE_BYTES: String(LIMIT) } });

  it.each(CASES)('answers %s over NATS with a FAILED response naming the field, and its code', async (_name, body, error, code) => {
    const response = await stack.submit(typeof body === 'string' ? body : JSON.stringify(body));
    expect(response).toMatchObject({ status: 'FAILED', success: false, result: null, error_code: code });
    expect(response['error']).toContain(error);
  });

  it('answers a bad fire-and-forget request on agent.<requester_id>.response', async () => {
    const answers = stack.nats.collect(agentResponseSubject('e2e_bad_requester'));
    await stack.nats.flush();
    stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id: 'bad-ff', task_type: 'no_such_workflow', requester_id: 'e2e_bad_requester' });
    const [answer] = await answers.waitForCount(1);
    expect(answer).toMatchObject({ task_id: 'bad-ff', status: 'FAILED', success: false });
    expect(answer?.['error']).toContain('task_type: no workflow is defined');
    answers.stop();
  });

  it.each(CASES.filter(([, body]) => typeof body === 'object' && !Array.isArray(body)))(
    'answers %s over HTTP with a 4xx naming the field, with the code NATS gives',
    async (_name, body, error, code) => {
      const res = await fetch(`${stack.orchestrator.baseUrl}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const reply = (await res.json()) as { code: string; message: string };
      expect(reply.code).toBe(code);
      if (error.includes('exceeds the limit')) {
        expect(res.status).toBe(413);
        expect(reply.code).toBe('PAYLOAD_TOO_LARGE');
      } else {
        expect(res.status).toBe(400);
        expect(reply.message).toContain(error);
      }
    },
  );

  it('answers a body that is not JSON over HTTP with 400', async () => {
    const res = await fetch(`${stack.orchestrator.baseUrl}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"task_id": ',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('body: is not valid JSON');
  });

  it('answers a body that is not sent as JSON with 415, naming what came', async () => {
    const body = JSON.stringify({ task_id: 'bad-form', task_type: 'create_blog_post', payload: { topic: 't' } });
    for (const [type, named] of [
      ['application/x-www-form-urlencoded', 'as application/x-www-form-urlencoded'],
      ['text/plain;charset=UTF-8', 'as text/plain;charset=UTF-8'],
    ]) {
      const res = await fetch(`${stack.orchestrator.baseUrl}/tasks`, { method: 'POST', headers: { 'content-type': type }, body });
      expect(res.status).toBe(415);
      expect(await res.json()).toEqual({ code: 'UNSUPPORTED_MEDIA_TYPE', message: `body: must be JSON, sent with Content-Type: application/json (it came ${named})` });
    }
  });

  it('answers a route that does not exist with the same vocabulary', async () => {
    const res = await fetch(`${stack.orchestrator.baseUrl}/no/such/route`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('wrote no task and is still healthy', async () => {
    const [{ count }] = await stack.db.query<{ count: number }>('SELECT count(*)::int AS count FROM tasks');
    expect(count).toBe(0);
    expect(stack.orchestrator.running).toBe(true);
    expect((await fetch(`${stack.orchestrator.baseUrl}/health/ready`)).status).toBe(200);
  });

  it('accepts a request with a top-level field it does not know, as the contract asks receivers to', async () => {
    const res = await fetch(`${stack.orchestrator.baseUrl}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task_id: 'newer-client-1', task_type: 'create_blog_post', payload: { topic: 't' }, added_later: { by: 'a newer client' } }),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ task_id: 'newer-client-1', status: 'RUNNING' });
    // No agent runs here: it would wait for one.
    const cancelled = await fetch(`${stack.orchestrator.baseUrl}/tasks/newer-client-1/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
  });

  it('emits no event for a refused request: no lifecycle event, no history', async () => {
    // A task_id in use, finished before listening: its own events are over by then.
    const before = stack.nats.collect('platform.events.>');
    await stack.nats.flush();
    await fetch(`${stack.orchestrator.baseUrl}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task_id: 'in-use-1', task_type: 'create_blog_post', payload: { topic: 't' } }) });
    expect((await fetch(`${stack.orchestrator.baseUrl}/tasks/in-use-1/cancel`, { method: 'POST' })).status).toBe(200);
    const sent = (m: Record<string, unknown>): boolean => Array.isArray(m['events']) && (m['events'] as { task_id: string; kind: string }[]).some((e) => e.task_id === 'in-use-1' && e.kind === 'answer_sent');
    await waitFor('the finished task to be done with', () => (before.messages.some(sent) ? true : undefined));
    before.stop();
    const events = stack.nats.collect('platform.events.>');
    await stack.nats.flush();
    for (const [, body] of CASES) await stack.submit(typeof body === 'string' ? body : JSON.stringify(body));
    // Another request under a task_id in use, and one over HTTP.
    expect(await stack.submit({ task_id: 'in-use-1', task_type: 'create_blog_post', payload: { topic: 'another' } })).toMatchObject({ status: 'FAILED', error: 'task_id: "in-use-1" is already used by a different request' });
    const http = await fetch(`${stack.orchestrator.baseUrl}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task_id: 'bad-http', task_type: 'nope' }) });
    expect(http.status).toBe(400);
    // A request that is taken: its events come after any the refused ones could have caused (one connection, in order).
    const accepted = await fetch(`${stack.orchestrator.baseUrl}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task_id: 'sentinel-1', task_type: 'create_blog_post', payload: { topic: 't' } }),
    });
    expect(accepted.status).toBe(202);
    await waitFor('the accepted request to be announced', () => (events.messages.some((m) => m['task_id'] === 'sentinel-1') ? true : undefined));
    // What was said, about which task: a lifecycle event's task_id, or the kind and task of each history event.
    const said = events.messages.flatMap((m) =>
      Array.isArray(m['events']) ? (m['events'] as { task_id: string; kind: string }[]).map((e) => `${e.task_id} ${e.kind}`) : [`${String(m['task_id'])} ${String(m['status'])}`],
    );
    // Nothing about the refused ones; the task whose id was reused may still wind down, but nothing started again.
    expect(said.filter((line) => !line.startsWith('sentinel-1 ') && !line.startsWith('in-use-1 '))).toEqual([]);
    expect(said.filter((line) => /^in-use-1 (submitted|planned|dispatched|RUNNING)$/.test(line))).toEqual([]);
    expect(said).toContain('sentinel-1 submitted');
    events.stop();
    expect((await fetch(`${stack.orchestrator.baseUrl}/tasks/sentinel-1/cancel`, { method: 'POST' })).status).toBe(200);
  });
});

describe('a request without a task_id', () => {
  const stack = useTestStack();

  it('gets one made up, and is answered with it, over HTTP and NATS', async () => {
    const res = await fetch(`${stack.orchestrator.baseUrl}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task_type: 'create_blog_post', payload: { topic: 'no id' } }),
    });
    expect(res.status).toBe(202);
    const { task_id: made } = (await res.json()) as { task_id: string };
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
    expect((await fetch(`${stack.orchestrator.baseUrl}/tasks/${made}`)).status).toBe(200);
    // No agent runs here: cancelled, its final response carries the id it was given.
    const answers = stack.nats.collect(agentResponseSubject('e2e_no_id'));
    await stack.nats.flush();
    stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_type: 'create_blog_post', payload: { topic: 'no id either' }, requester_id: 'e2e_no_id' });
    const listed = await waitFor('the task to be stored', async () => {
      const page = (await (await fetch(`${stack.orchestrator.baseUrl}/tasks?requester_id=e2e_no_id`)).json()) as { items: { task_id: string }[] };
      return page.items[0]?.task_id;
    });
    expect((await fetch(`${stack.orchestrator.baseUrl}/tasks/${listed}/cancel`, { method: 'POST' })).status).toBe(200);
    const [answer] = await answers.waitForCount(1);
    expect(answer).toMatchObject({ task_id: listed, status: 'CANCELLED' });
    answers.stop();
    await fetch(`${stack.orchestrator.baseUrl}/tasks/${made}/cancel`, { method: 'POST' });
  });
});
