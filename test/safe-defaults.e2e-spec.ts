import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { agentProgressSubject, agentResponseSubject, ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { HistoryAgent } from './support/history-agent.js';
import { metric } from './support/metrics.js';
import { waitFor } from './support/orchestrator-process.js';
import { useTestStack } from './support/test-stack.js';

const API_KEY = 'e2e-safe-defaults-key-0123456789';
const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'safe-defaults');

/**
 * What a replica shows to whoever reaches it: security headers, the OpenAPI pages behind the key,
 * a bounded number of event streams, no address on readiness, no key in its log; and what it does
 * with answers and progress reports that cannot count: dropped before they cost a transition or a
 * place among the sub-tasks followed, counted, logged once a minute per sender.
 */
describe('safe defaults', () => {
  const hist = new HistoryAgent();
  const stack = useTestStack({ workflowsDir: FIXTURES, agents: [hist.agent], env: { API_KEY, EVENT_STREAMS_MAX: '2' } });
  const keyed = { 'x-api-key': API_KEY };
  const api = (path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> =>
    fetch(`${stack.orchestrator.baseUrl}${path}`, { ...init, headers: { ...keyed, ...init.headers } });
  const log = (): Promise<string> => readFile(stack.orchestrator.logFile, 'utf8');

  it('sends security headers on the API, the dashboard and the OpenAPI pages', async () => {
    for (const path of ['/health/live', '/tasks', '/ui/', '/docs']) {
      const res = await api(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy'), path).toContain("default-src 'self'");
      expect(res.headers.get('content-security-policy'), path).not.toContain('upgrade-insecure-requests');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('x-powered-by'), path).toBeNull();
    }
  });

  it('keeps the OpenAPI pages behind the key; a browser opens /docs?api_key= once and its page loads with the cookie it gets', async () => {
    const open = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(`${stack.orchestrator.baseUrl}${path}`, { headers });
    for (const path of ['/docs', '/docs/swagger-ui-init.js', '/docs-json', '/docs-yaml', '/docs?api_key=wrong-key']) expect((await open(path)).status, path).toBe(401);
    expect((await open('/docs-json', keyed)).status).toBe(200);
    const page = await open(`/docs?api_key=${API_KEY}`);
    expect(page.status).toBe(200);
    const cookie = page.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^orchestrator_docs=[\w-]+; Path=\/docs; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(API_KEY);
    const init = await open('/docs/swagger-ui-init.js', { cookie: cookie.split(';')[0] ?? '' });
    expect(init.status).toBe(200);
    expect(await init.text()).toContain('orchestrator_agent');
    expect((await open('/docs/swagger-ui-init.js', { cookie: 'orchestrator_docs=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).status).toBe(401);
  });

  it('says on /health/ready whether NATS is up, not where it is', async () => {
    const res = await fetch(`${stack.orchestrator.baseUrl}/health/ready`);
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(body).toContain('"nats":{"status":"up"}');
    expect(body).not.toMatch(/127\.0\.0\.1|nats:\/\/|4222|:\d{4,5}/);
  });

  it('serves EVENT_STREAMS_MAX event streams at once and answers one more 503 with Retry-After, until one closes', async () => {
    const streams: AbortController[] = [];
    const connect = async (): Promise<Response> => {
      const abort = new AbortController();
      streams.push(abort);
      return api('/events/stream', { signal: abort.signal, headers: { accept: 'text/event-stream' } });
    };
    try {
      expect((await connect()).status).toBe(200);
      expect((await connect()).status).toBe(200);
      const refused = await connect();
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(await refused.json()).toMatchObject({ code: 'TOO_MANY_STREAMS' });
      streams[0]?.abort();
      await waitFor('a stream to be served again once one closed', async () => {
        const res = await connect();
        return res.status === 200 ? true : undefined;
      });
    } finally {
      for (const stream of streams) stream.abort();
    }
  });

  it('drops answers that are malformed or name no running attempt, counting each and logging them once a minute per sender', async () => {
    const dropped = (): Promise<number> => metric(stack.orchestrator.baseUrl, 'orchestrator_responses_dropped_total', {}, keyed);
    const before = await dropped();
    const subject = agentResponseSubject('e2e_hist');
    for (let i = 0; i < 100; i++) {
      stack.nats.publish(subject, `not an answer ${i}`);
      stack.nats.publish(subject, { task_id: `${randomUUID()}:1`, status: 'COMPLETED', success: true, result: {}, error: null });
    }
    await stack.nats.flush();
    await waitFor('the 200 answers to be dropped', async () => ((await dropped()) >= before + 200 ? true : undefined));
    expect(await dropped()).toBe(before + 200);
    const lines = (await log()).split('\n').filter((line) => line.includes('dropped a') && line.includes(subject));
    expect(lines).toHaveLength(1);
  });

  it('follows the progress of a running attempt while a flood of made-up sub-task ids comes in', async () => {
    const submitted = await api('/tasks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task_id: 'progress-flood-1', task_type: 'e2e_progress_hold', payload: { delay_ms: 30_000 } }),
    });
    expect(submitted.status).toBeLessThan(300);
    const held = await waitFor('the step to be delivered', () => hist.deliveries.find((d) => d.payload['delay_ms'] === 30_000));
    const progress = agentProgressSubject('e2e_hist');
    for (let i = 0; i < 12_000; i++) stack.nats.publish(progress, { task_id: `${randomUUID()}:1`, fraction: 0.5 });
    // The real report, after the flood and again each second (a report within a second of the last is coalesced).
    const real = (): void => stack.nats.publish(progress, { task_id: held.taskId, fraction: 0.5, message: 'half way' });
    real();
    const again = setInterval(real, 1_000);
    try {
      const events = await waitFor(
        'the real report in the history',
        async () => {
          const page = (await (await api('/tasks/progress-flood-1/events?limit=1000')).json()) as { items: { kind: string; data: Record<string, unknown> }[] };
          const found = page.items.filter((event) => event.kind === 'progress');
          return found.length > 0 ? found : undefined;
        },
        25_000,
      );
      expect(events[0]?.data).toMatchObject({ fraction: 0.5, message: 'half way' });
    } finally {
      clearInterval(again);
    }
    // The orchestrator still takes work on NATS after the flood.
    const reply = await stack.nats.request(ORCHESTRATOR_TASK_SUBJECT, { task_id: 'after-flood', task_type: 'no_such_type' });
    expect(reply).toMatchObject({ task_id: 'after-flood', status: 'FAILED' });
  });

  it('writes no API key given in a URL query to its log, also in the line of a 500', async () => {
    // The tasks table out of the way for a moment: the stream's lookup fails, and the 500 is logged with its URL.
    await stack.db.query('ALTER TABLE tasks RENAME TO tasks_away');
    let status: number;
    try {
      const res = await fetch(`${stack.orchestrator.baseUrl}/tasks/redaction-1/stream?api_key=${API_KEY}`);
      status = res.status;
      await res.body?.cancel();
    } finally {
      await stack.db.query('ALTER TABLE tasks_away RENAME TO tasks');
    }
    expect(status).toBe(500);
    const line = await waitFor('the 500 in the log', async () => (await log()).split('\n').find((l) => l.includes('/tasks/redaction-1/stream')));
    expect(line).toContain('GET /tasks/redaction-1/stream?api_key=[redacted] failed');
    expect(await log()).not.toContain(API_KEY);
  });
});
