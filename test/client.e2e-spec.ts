import { copyFileSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from '@orchestrator/agent-sdk';
import { OrchestratorClient, OrchestratorError, type TaskLifecycleEvent } from '@orchestrator/client';
import { TaskEvent, TaskStatus } from '@orchestrator/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

const ROOT = new URL('..', import.meta.url).pathname;
const API_KEY = 'client-e2e-key-0123456789';

/** The repository's workflows and one whose only step runs until it is cancelled. */
function workflowsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'client-workflows-'));
  for (const file of readdirSync(join(ROOT, 'workflows'))) copyFileSync(join(ROOT, 'workflows', file), join(dir, file));
  copyFileSync(join(ROOT, 'test/fixtures/workflows/e2e_slow_one.yaml'), join(dir, 'e2e_slow_one.yaml'));
  return dir;
}

/** Holds each task until it is cancelled (or the test ends). */
function slowAgent(): Agent {
  return new Agent({ name: 'e2e_slow', agentType: 'test', natsUrl: testEnv().natsUrl, heartbeatIntervalMs: 1_000 }).handle(
    'e2e_work',
    async (_payload, ctx) => {
      await sleep(60_000, undefined, { signal: ctx.signal });
      return { slept: true };
    },
  );
}

/** The error a promise rejects with, or a failure when it resolves. */
async function failure(work: Promise<unknown>): Promise<OrchestratorError> {
  const outcome = await work.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected an error, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(OrchestratorError);
  return outcome.error as OrchestratorError;
}

describe('@orchestrator/client against the running orchestrator, over NATS and HTTP', () => {
  const stack = useTestStack({ workflowsDir: workflowsDir(), env: { API_KEY }, demoAgents: true, agents: [slowAgent()] });
  const run = Date.now().toString(36);
  let nats: OrchestratorClient;
  let http: OrchestratorClient;
  let both: OrchestratorClient;

  beforeAll(async () => {
    const httpUrl = stack.orchestrator.baseUrl;
    nats = await OrchestratorClient.connect({ natsUrl: testEnv().natsUrl, timeoutMs: 60_000 });
    http = await OrchestratorClient.connect({ httpUrl, apiKey: API_KEY, timeoutMs: 60_000, pollIntervalMs: 100 });
    both = await OrchestratorClient.connect({ natsUrl: testEnv().natsUrl, httpUrl, apiKey: API_KEY, via: 'http', timeoutMs: 60_000 });
    await waitFor('the six agents to be registered', async () => {
      const res = await fetch(`${httpUrl}/agents`, { headers: { 'x-api-key': API_KEY } });
      const body = (await res.json()) as { items: unknown[] };
      return body.items.length === 6 ? true : undefined;
    });
  });
  afterAll(async () => {
    await Promise.all([nats?.close(), http?.close(), both?.close()]);
  });

  const blogPost = (taskId: string, topic = 'Typed clients') => ({ task_id: taskId, task_type: 'create_blog_post', payload: { topic } });

  it('submits over NATS and waits for the COMPLETED response', async () => {
    const response = await nats.run(blogPost(`client-nats-${run}`));
    expect(response).toMatchObject({ task_id: `client-nats-${run}`, status: TaskStatus.Completed, success: true, error: null });
    const output = (response.result as { output: { location: string } }).output;
    expect(existsSync(output.location)).toBe(true);
  });

  it('submits over HTTP, waits by asking, and answers a repeat with the known state', async () => {
    const taskId = `client-http-${run}`;
    expect(await http.submit(blogPost(taskId))).toEqual({ task_id: taskId, status: TaskStatus.Running, existing: false });
    const response = await http.wait(taskId);
    expect(response).toMatchObject({ task_id: taskId, status: TaskStatus.Completed, success: true });
    expect(Object.keys((response.result as { steps: object }).steps).sort()).toEqual(['draft', 'enhance', 'export', 'publish', 'review']);
    expect(await http.submit(blogPost(taskId))).toEqual({ task_id: taskId, status: TaskStatus.Completed, existing: true });
    // Over NATS the repeat is answered with the state too, and the final response is at hand.
    expect(await nats.submit(blogPost(taskId))).toEqual({ task_id: taskId, status: TaskStatus.Completed, existing: true });
    expect(await nats.wait(taskId)).toMatchObject({ status: TaskStatus.Completed });
  });

  it('gets a task with every step, and lists tasks with filters and pages', async () => {
    const detail = await http.get(`client-http-${run}`);
    expect(detail).toMatchObject({ task_type: 'create_blog_post', status: TaskStatus.Completed, progress: { done: 5, skipped: 0, failed: 0, cancelled: 0, total: 5 }, payload: { topic: 'Typed clients' } });
    expect(detail.steps.map((step) => step.step)).toEqual(['draft', 'enhance', 'review', 'export', 'publish']);
    expect(detail.plan?.steps.map((step) => step.id)).toEqual(['draft', 'enhance', 'review', 'export', 'publish']);

    const page = await http.list({ task_type: 'create_blog_post', status: TaskStatus.Completed, limit: 1, count: true });
    expect(page).toMatchObject({ total: 2, limit: 1, next_cursor: expect.any(String) as unknown });
    expect(page.items.map((item) => item.task_id)).toEqual([`client-http-${run}`]);
    const next = await http.list({ task_type: 'create_blog_post', status: TaskStatus.Completed, limit: 1, cursor: page.next_cursor ?? '' });
    expect(next).toMatchObject({ next_cursor: null });
    expect(next.total).toBeUndefined();
    expect(next.items.map((item) => item.task_id)).toEqual([`client-nats-${run}`]);
    expect((await http.list({ status: TaskStatus.Cancelled })).items).toEqual([]);
    const badLimit = await failure(http.list({ limit: 500 }));
    expect(badLimit).toMatchObject({ status: 400, field: 'limit' });
  });

  it('cancels a running task over NATS and over HTTP; a finished one is a 409, an unknown one a 404', async () => {
    for (const [client, via] of [[nats, 'nats'], [both, 'http']] as const) {
      const taskId = `client-cancel-${via}-${run}`;
      await client.submit({ task_id: taskId, task_type: 'e2e_slow_one' });
      await waitFor('the step to run', async () => ((await http.get(taskId)).steps[0]?.status === TaskStatus.Running ? true : undefined));
      expect(await client.cancel(taskId)).toEqual({ task_id: taskId, status: TaskStatus.Cancelled });
      expect(await client.wait(taskId, { timeoutMs: 10_000 })).toMatchObject({ task_id: taskId, status: TaskStatus.Cancelled, success: false, error: 'cancelled by request' });
    }
    // Over HTTP a finished task is a 409; over NATS the answer is the task's state, so only a
    // COMPLETED or FAILED one is an error (a task cancelled already is cancelled, once more).
    expect(await failure(http.cancel(`client-cancel-nats-${run}`))).toMatchObject({ status: 409, code: 'TASK_FINISHED' });
    expect(await nats.cancel(`client-cancel-http-${run}`)).toEqual({ task_id: `client-cancel-http-${run}`, status: TaskStatus.Cancelled });
    expect(await failure(nats.cancel(`client-nats-${run}`))).toMatchObject({ code: 'TASK_FINISHED', taskId: `client-nats-${run}` });
    expect(await failure(http.cancel(`no-such-${run}`))).toMatchObject({ status: 404, code: 'TASK_NOT_FOUND' });
    expect(await failure(nats.cancel(`no-such-${run}`))).toMatchObject({ code: 'TASK_NOT_FOUND' });
    expect(await failure(http.get(`no-such-${run}`))).toMatchObject({ status: 404, code: 'TASK_NOT_FOUND', message: `no task with task_id "no-such-${run}"` });
  });

  it('refuses bad input with a 400 naming the field, over HTTP and NATS', async () => {
    const missing = { task_id: `client-bad-${run}`, task_type: 'create_blog_post', payload: {} };
    expect(await failure(http.submit(missing))).toMatchObject({ status: 400, code: 'INVALID_PAYLOAD', field: 'payload.topic', message: 'payload.topic: is required' });
    // The same code over NATS as over HTTP.
    expect(await failure(nats.submit(missing))).toMatchObject({ code: 'INVALID_PAYLOAD', field: 'payload.topic', message: 'payload.topic: is required' });
    const badType = await failure(http.submit({ task_id: `client-bad-${run}`, task_type: 'Not A Type' }));
    expect(badType).toMatchObject({ status: 400, field: 'task_type' });
    // Nothing was stored for them.
    expect(await failure(http.get(`client-bad-${run}`))).toMatchObject({ status: 404 });
  });

  it('refuses another request under a task_id in use with a 409', async () => {
    const taskId = `client-nats-${run}`;
    expect(await failure(http.submit(blogPost(taskId, 'Another topic')))).toMatchObject({ status: 409, code: 'TASK_ID_CONFLICT', field: 'task_id', taskId });
    expect(await failure(nats.submit(blogPost(taskId, 'Another topic')))).toMatchObject({ code: 'TASK_ID_CONFLICT', field: 'task_id' });
  });

  it('streams the lifecycle events of one task', async () => {
    const taskId = `client-events-${run}`;
    const stream = await nats.events({ taskId });
    const noise = nats.run(blogPost(`client-noise-${run}`));
    const final = await both.run(blogPost(taskId));
    const seen: TaskLifecycleEvent[] = [];
    for await (const event of stream) {
      seen.push(event);
      if (event.event === TaskEvent.Completed) break;
    }
    await noise;
    expect(final.status).toBe(TaskStatus.Completed);
    expect(seen.every((event) => event.data.task_id === taskId)).toBe(true);
    const kinds = seen.map((event) => event.event);
    expect(kinds.slice(0, 2)).toEqual([TaskEvent.Created, TaskEvent.Started]);
    expect(kinds.at(-1)).toBe(TaskEvent.Completed);
    const progress = seen.flatMap((event) => (event.event === TaskEvent.Progress ? [event.data] : []));
    expect(progress.filter((p) => p.status === TaskStatus.Completed).map((p) => p.done)).toEqual([1, 2, 3, 4, 5]);
    expect(seen.at(-1)?.data).toMatchObject({ task_id: taskId, task_type: 'create_blog_post', status: TaskStatus.Completed, success: true });
  });

  it('needs the API key over HTTP', async () => {
    const keyless = await OrchestratorClient.connect({ httpUrl: stack.orchestrator.baseUrl });
    expect(await failure(keyless.list())).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });

  it('makes up a task_id when none is given, over NATS and over HTTP, and runs the task under it', async () => {
    for (const client of [nats, http]) {
      const response = await client.run({ task_type: 'create_blog_post', payload: { topic: 'No id given' } });
      expect(response.status).toBe(TaskStatus.Completed);
      expect(response.task_id).toMatch(/^[0-9a-f-]{36}$/);
      const view = await http.get(response.task_id);
      expect(view.status).toBe(TaskStatus.Completed);
      // Started as it was made: never before it was made.
      expect(Date.parse(view.started_at ?? '')).toBeGreaterThanOrEqual(Date.parse(view.created_at));
    }
  });
});
