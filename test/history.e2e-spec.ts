import { join } from 'node:path';
import type { Msg } from '@nats-io/transport-node';
import { Agent } from '@orchestrator/agent-sdk';
import { ORCHESTRATOR_RERUN_SUBJECT, ORCHESTRATOR_RETRY_SUBJECT, type HistoryEvent as WireEvent } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { HistoryAgent } from './support/history-agent.js';
import { waitFor } from './support/orchestrator-process.js';
import { SseClient } from './support/sse-client.js';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

/** An event as it comes over HTTP: its kind a plain string. */
type HistoryEvent = Omit<WireEvent, 'kind'> & { kind: string };

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');

/** Lets a test hold a sub-task until it says so. */
class Gates {
  private readonly open = new Map<string, () => void>();
  private readonly gates = new Map<string, Promise<void>>();

  wait(key: string): Promise<void> {
    let gate = this.gates.get(key);
    if (!gate) {
      gate = new Promise<void>((resolve) => this.open.set(key, resolve));
      this.gates.set(key, gate);
    }
    return gate;
  }

  release(key: string): void {
    void this.wait(key);
    this.open.get(key)?.();
  }
}

describe('history, streams, retry, rerun and progress', () => {
  const hist = new HistoryAgent();
  const gates = new Gates();
  /** The sub-task ids the progress agent got, by run. */
  const progressTasks = new Map<string, string>();
  const prog = new Agent({ name: 'e2e_prog', agentType: 'test', natsUrl: testEnv().natsUrl, heartbeatIntervalMs: 1000 }).handle(
    'e2e_prog_work',
    async (payload, ctx) => {
      const run = String(payload['run']);
      progressTasks.set(run, ctx.taskId);
      ctx.progress(0.1, 'started');
      // A flood: coalesced by the orchestrator to about one a second.
      for (let i = 1; i <= 50; i++) ctx.progress(0.1 + i * 0.01, `step ${i}`);
      await gates.wait(`prog/${run}`);
      return { run };
    },
  );
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    agents: [hist.agent, prog],
    waitForAgents: 3, // and the static e2e_raw
    env: { STATIC_AGENTS: JSON.stringify([{ name: 'e2e_raw', capabilities: ['e2e_raw_work'], max_concurrency: 4 }]) },
  });

  // An agent with nothing but a plain NATS client: it reports progress, then answers when let.
  const rawTasks: string[] = [];
  let rawSubscribed = false;
  function startRawAgent(): void {
    if (rawSubscribed) return;
    rawSubscribed = true;
    stack.nats.nc.subscribe('agent.e2e_raw.task', {
      callback: (_error, msg: Msg) => {
        const { task_id: taskId } = msg.json<{ task_id: string }>();
        rawTasks.push(taskId);
        stack.nats.publish('agent.e2e_raw.progress', { task_id: taskId, fraction: 0.5, message: 'raw half' });
        void gates.wait(`raw/${taskId}`).then(() => {
          msg.respond(JSON.stringify({ task_id: taskId, status: 'COMPLETED', success: true, result: { raw: true }, error: null, completed_at: Date.now() / 1000 }));
        });
      },
    });
  }

  const url = (path: string): string => `${stack.orchestrator.baseUrl}${path}`;
  const post = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(url(path), { method: 'POST' });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  async function history(taskId: string): Promise<HistoryEvent[]> {
    return (await stack.get<{ items: HistoryEvent[] }>(`/tasks/${taskId}/events?limit=1000`)).items;
  }

  /** The ids of a workflow's events in the table, in order. */
  async function tableIds(taskId: string): Promise<number[]> {
    return (await stack.db.query<{ id: string }>(`SELECT id FROM task_events WHERE task_id = $1 ORDER BY id`, [taskId])).map((row) => Number(row.id));
  }

  /** Waits until the final response's `answer_sent` is in the history. */
  async function answerSent(taskId: string, count = 1): Promise<HistoryEvent[]> {
    return waitFor(`${taskId}'s final response to be marked sent`, async () => {
      const events = await history(taskId);
      return events.filter((e) => e.kind === 'answer_sent').length >= count ? events : undefined;
    });
  }

  const kindsOf = (events: HistoryEvent[], step: string | null): string[] => events.filter((e) => e.step_id === step).map((e) => e.kind);

  it('records a workflow with a retried step, a for_each and a skipped step, in the order it happened', async () => {
    const response = await stack.submit({ task_id: 'h-1', task_type: 'e2e_history', payload: { items: [1, 2, 3], fail_first: true } });
    expect(response).toMatchObject({ status: 'COMPLETED', result: { output: { count: 3 } } });
    const events = await answerSent('h-1');
    expect(events.map((e) => e.id)).toEqual(await tableIds('h-1'));
    expect(events.every((e) => e.task_id === 'h-1' && e.task_type === 'e2e_history')).toBe(true);
    expect(events.slice(0, 2).map((e) => e.kind)).toEqual(['submitted', 'planned']);
    expect(events[1]?.data).toEqual({ version: 1, revision: 1, steps: ['first', 'each', 'never', 'last'] });
    expect(events.slice(-2).map((e) => [e.kind, e.status])).toEqual([['completed', 'COMPLETED'], ['answer_sent', 'COMPLETED']]);

    const first = events.filter((e) => e.step_id === 'first');
    expect(first.map((e) => e.kind)).toEqual(['dispatched', 'answered', 'retried', 'dispatched', 'answered']);
    expect(first.map((e) => e.data?.['attempt'])).toEqual([1, 1, 2, 2, 2]);
    expect(first[1]?.data).toMatchObject({ status: 'FAILED', error: 'attempt 1 fails', agent: 'e2e_hist' });
    expect(first[2]?.data?.['backoff_ms']).toEqual(expect.any(Number));
    expect(first[4]?.data).toMatchObject({ status: 'COMPLETED' });

    expect(events.filter((e) => e.step_id === 'never')).toMatchObject([{ kind: 'skipped', data: { when: 'size(request.payload.items) > 100' } }]);
    expect(kindsOf(events, 'each')).toEqual(['expanded', 'step_completed']);
    expect(events.find((e) => e.kind === 'expanded')?.data).toEqual({ items: 3 });
    for (const item of ['each[0]', 'each[1]', 'each[2]']) expect(kindsOf(events, item)).toEqual(['dispatched', 'answered']);
    expect(kindsOf(events, 'last')).toEqual(['dispatched', 'answered']);
    // Nothing of a step happens before what it depends on.
    const at = (step: string | null, kind: string): number => events.findIndex((e) => e.step_id === step && e.kind === kind);
    expect(at('each', 'expanded')).toBeGreaterThan(events.findIndex((e) => e.step_id === 'first' && e.data?.['status'] === 'COMPLETED'));
    expect(at('last', 'dispatched')).toBeGreaterThan(at('each', 'step_completed'));
    expect(at(null, 'completed')).toBeGreaterThan(at('last', 'answered'));
  });

  it('pages the history by after and limit, and names what is wrong with a request', async () => {
    const all = await history('h-1');
    const paged: HistoryEvent[] = [];
    let after: number | null = 0;
    for (let pages = 0; after !== null; pages++) {
      expect(pages).toBeLessThan(20);
      const page: { items: HistoryEvent[]; next_after: number | null } = await stack.get(`/tasks/h-1/events?limit=4&after=${after}`);
      expect(page.items.length).toBeLessThanOrEqual(4);
      paged.push(...page.items);
      after = page.next_after;
    }
    expect(paged).toEqual(all);
    const bad = await fetch(url('/tasks/h-1/events?limit=0'));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'INVALID_REQUEST', message: 'limit: must be at least 1' });
    expect((await fetch(url('/tasks/h-1/events?after=x'))).status).toBe(400);
    expect((await fetch(url('/tasks/no-such-task/events'))).status).toBe(404);
    const doc = await stack.get<{ paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }>('/docs-json');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/tasks/{taskId}/events', '/tasks/{taskId}/stream', '/events/stream', '/tasks/{taskId}/retry', '/tasks/{taskId}/rerun']));
    expect(doc.components.schemas).toHaveProperty('HistoryEventDoc');
  });

  it('streams one workflow: its history so far, then every event live, each once and in order', async () => {
    startRawAgent();
    const answer = stack.submit({ task_id: 'sse-1', task_type: 'e2e_progress', payload: { agent: 'sse-1' } });
    await waitFor('the progress agent to hold its sub-task', () => progressTasks.get('sse-1'));
    const sse = await SseClient.open(url('/tasks/sse-1/stream'));
    expect(sse.status).toBe(200);
    await sse.waitFor('the dispatch of "work"', (e) => e.data['kind'] === 'dispatched');
    gates.release('prog/sse-1');
    const rawTask = await waitFor('the raw agent to get its sub-task', () => rawTasks[0]);
    await sse.waitFor('progress from the raw agent', (e) => e.data['step_id'] === 'raw' && e.data['kind'] === 'progress');
    gates.release(`raw/${rawTask}`);
    expect(await answer).toMatchObject({ status: 'COMPLETED' });
    await sse.waitFor('answer_sent', (e) => e.data['kind'] === 'answer_sent');
    sse.close();
    const ids = sse.events.map((e) => Number(e.id));
    expect(ids).toEqual(await tableIds('sse-1'));
    expect(sse.events.map((e) => e.data['id'])).toEqual(ids);
    expect(sse.events.some((e) => e.data['kind'] === 'progress' && e.data['step_id'] === 'work')).toBe(true);

    // Resumed after an event: exactly the ones after it.
    const middle = ids[Math.floor(ids.length / 2)] ?? 0;
    const resumed = await SseClient.open(url('/tasks/sse-1/stream'), { 'Last-Event-ID': String(middle) });
    await resumed.waitFor('answer_sent', (e) => e.data['kind'] === 'answer_sent');
    resumed.close();
    expect(resumed.events.map((e) => Number(e.id))).toEqual(ids.filter((id) => id > middle));
    const bad = await SseClient.open(url('/tasks/sse-1/stream'), { 'Last-Event-ID': 'x' });
    expect(bad.status).toBe(400);
    expect((await SseClient.open(url('/tasks/nope/stream'))).status).toBe(404);
  });

  it('keeps the latest progress on the step and in the history, coalesced, from the agent the attempt went to only', async () => {
    startRawAgent();
    const rawBefore = rawTasks.length;
    const answer = stack.submit({ task_id: 'p-1', task_type: 'e2e_progress', payload: { agent: 'p-1' } });
    const subtask = await waitFor('the progress agent to hold its sub-task', () => progressTasks.get('p-1'));
    // A report for the same sub-task from another agent, and one for an attempt that is not running.
    stack.nats.publish('agent.e2e_hist.progress', { task_id: subtask, fraction: 0.99, message: 'forged' });
    stack.nats.publish('agent.e2e_prog.progress', { task_id: `${subtask.split(':')[0] ?? ''}:7`, fraction: 0.98, message: 'stale' });
    stack.nats.publish('agent.e2e_prog.progress', { task_id: subtask, fraction: 2 });
    const detail = await waitFor('the latest progress of the flood on the step', async () => {
      const view = await stack.get<{ steps: { step: string; progress: { fraction: number; message: string; attempt: number } | null }[] }>('/tasks/p-1');
      const progress = view.steps.find((s) => s.step === 'work')?.progress;
      return progress?.message === 'step 50' ? progress : undefined;
    }, 10_000);
    expect(detail).toMatchObject({ message: 'step 50', attempt: 1 });
    expect(detail.fraction).toBeCloseTo(0.6);
    const events = (await history('p-1')).filter((e) => e.kind === 'progress');
    // 51 reports in a burst: the first at once, the latest when the second ends.
    expect(events).toHaveLength(2);
    expect(events[0]?.data?.['message']).toBe('started');
    expect(events.at(-1)?.data?.['message']).toBe('step 50');
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).toMatch(/^orchestrator_responses_refused_total\{reason="sender"\} [1-9]/m);

    gates.release('prog/p-1');
    const rawTask = await waitFor('the raw agent to get its sub-task', () => rawTasks[rawBefore]);
    const raw = await waitFor('the plain client’s progress in the history', async () =>
      (await history('p-1')).find((e) => e.step_id === 'raw' && e.kind === 'progress'),
    );
    expect(raw.data).toEqual({ fraction: 0.5, message: 'raw half', attempt: 1 });
    gates.release(`raw/${rawTask}`);
    expect(await answer).toMatchObject({ status: 'COMPLETED' });
    expect((await history('p-1')).some((e) => e.data?.['message'] === 'forged' || e.data?.['message'] === 'stale')).toBe(false);
  });

  it('retries a failed workflow from its failed step: nothing completed runs again, attempts count on, a new final answer', async () => {
    const answers = stack.nats.collect('agent.e2e_requester.response');
    hist.failing.add('r-1');
    const first = await stack.submit({ task_id: 'r-1', task_type: 'e2e_resume', payload: { run: 'r-1', items: [1, 2, 3] }, requester_id: 'e2e_requester' });
    expect(first).toMatchObject({ status: 'FAILED', error: 'step "b" (agent e2e_hist) failed after 2 attempts: b is down' });
    await answerSent('r-1');
    expect([hist.of('r-1', 'a').length, hist.of('r-1', 'each').length, hist.of('r-1', 'b').length, hist.of('r-1', 'c').length]).toEqual([1, 3, 2, 0]);

    hist.failing.delete('r-1');
    const retried = await post('/tasks/r-1/retry');
    expect(retried).toEqual({ status: 200, body: { task_id: 'r-1', status: 'RUNNING', links: { self: '/tasks/r-1' } } });
    const [, second] = await answers.waitForCount(2);
    expect(answers.messages[0]).toMatchObject({ task_id: 'r-1', status: 'FAILED' });
    expect(second).toMatchObject({ task_id: 'r-1', status: 'COMPLETED', result: { output: { c: 'b' } } });
    expect([hist.of('r-1', 'a').length, hist.of('r-1', 'each').length, hist.of('r-1', 'b').length, hist.of('r-1', 'c').length]).toEqual([1, 3, 3, 1]);
    expect(hist.of('r-1', 'b').map((d) => d.attempt)).toEqual([1, 2, 3]);

    const events = await answerSent('r-1', 2);
    expect(events.find((e) => e.kind === 'resumed')).toMatchObject({ status: 'RUNNING', data: { was: 'FAILED', steps: ['b', 'c'] } });
    expect(events.filter((e) => e.step_id === 'b' && e.kind === 'dispatched').map((e) => e.data?.['attempt'])).toEqual([1, 2, 3]);
    expect(events.map((e) => e.kind).filter((k) => k === 'failed' || k === 'completed' || k === 'answer_sent')).toEqual(['failed', 'answer_sent', 'completed', 'answer_sent']);
    const [b] = await stack.db.query<{ attempts: number; max_attempts: number }>(
      `SELECT s.attempts, s.max_attempts FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE r.task_id = 'r-1' AND r.parent_id IS NULL AND s.step_key = 'b'`,
    );
    expect(b).toEqual({ attempts: 3, max_attempts: 4 });
    answers.stop();
  });

  it('retries a for_each step keeping its completed items', async () => {
    hist.failingItems.add('r-2/3');
    const first = await stack.submit({ task_id: 'r-2', task_type: 'e2e_resume', payload: { run: 'r-2', items: [1, 2, 3, 4] } });
    expect(first).toMatchObject({ status: 'FAILED' });
    expect(first['error']).toContain('item 2 of 4 failed after 2 attempts: item 3 is bad');
    await answerSent('r-2');
    // Which items completed before the failure depends on timing (item 4 may have run, or been cancelled): the table says.
    const completedBefore = (
      await stack.db.query<{ item: number }>(
        `SELECT (i.payload->>'item')::int AS item FROM tasks i JOIN tasks r ON r.id = i.root_id
          WHERE r.task_id = 'r-2' AND r.parent_id IS NULL AND i.step_key LIKE 'each[%' AND i.status = 'COMPLETED'`,
      )
    ).map((row) => row.item);
    expect(completedBefore).toEqual(expect.arrayContaining([1, 2]));
    expect(completedBefore).not.toContain(3);
    const deliveries = (): number[] => hist.of('r-2', 'each').map((d) => Number(d.payload['item']));
    const before = deliveries().length;
    hist.failingItems.delete('r-2/3');
    expect((await post('/tasks/r-2/retry')).status).toBe(200);
    await waitFor('r-2 to complete', async () => ((await stack.get<{ status: string }>('/tasks/r-2')).status === 'COMPLETED' ? true : undefined));
    // Exactly the items that had not completed went again, each once; the completed ones not at all.
    const again = deliveries().slice(before).sort();
    expect(again).toEqual([1, 2, 3, 4].filter((item) => !completedBefore.includes(item)));
    expect(hist.of('r-2', 'a')).toHaveLength(1);
  });

  it('reruns a finished task under a new task_id, and refuses retry and rerun where they do not apply', async () => {
    const rerun = await post('/tasks/r-1/rerun');
    expect(rerun.status).toBe(202);
    const newId = String(rerun.body['task_id']);
    expect(newId).toMatch(/^r-1\.rerun-[0-9a-f]{8}$/);
    expect(rerun.body).toMatchObject({ status: 'RUNNING', rerun_of: 'r-1' });
    await waitFor('the rerun to complete', async () => ((await stack.get<{ status: string }>(`/tasks/${newId}`)).status === 'COMPLETED' ? true : undefined));
    expect((await history(newId))[0]).toMatchObject({ kind: 'submitted', data: { rerun_of: 'r-1' } });
    expect(hist.of('r-1', 'a')).toHaveLength(2);

    const completed = await post('/tasks/r-1/retry');
    expect(completed).toMatchObject({ status: 409, body: { code: 'TASK_NOT_RETRYABLE', message: 'task r-1 is COMPLETED: only a FAILED or CANCELLED task can be retried' } });
    expect(await post('/tasks/nope/retry')).toMatchObject({ status: 404, body: { code: 'TASK_NOT_FOUND' } });
    expect(await post('/tasks/nope/rerun')).toMatchObject({ status: 404, body: { code: 'TASK_NOT_FOUND' } });

    const busy = stack.submit({ task_id: 'busy-1', task_type: 'e2e_progress', payload: { agent: 'busy-1' } });
    await waitFor('busy-1 to run', () => progressTasks.get('busy-1'));
    expect(await post('/tasks/busy-1/retry')).toMatchObject({ status: 409, body: { message: 'task busy-1 is RUNNING: only a FAILED or CANCELLED task can be retried' } });
    expect(await post('/tasks/busy-1/rerun')).toMatchObject({ status: 409, body: { code: 'TASK_RUNNING', message: 'task busy-1 is RUNNING: a task runs again once it has finished' } });
    expect((await post('/tasks/busy-1/cancel')).status).toBe(200);
    expect(await busy).toMatchObject({ status: 'CANCELLED' });
    gates.release('prog/busy-1');

    // Over NATS, as cancel is.
    expect(await stack.nats.request(ORCHESTRATOR_RETRY_SUBJECT, { task_id: 'nope' })).toMatchObject({ status: 'FAILED', error: 'task_id: no task "nope"' });
    expect(await stack.nats.request(ORCHESTRATOR_RETRY_SUBJECT, {})).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/^task_id: is required/) as unknown });
    await answerSent('busy-1');
    const again = await stack.nats.request(ORCHESTRATOR_RETRY_SUBJECT, { task_id: 'busy-1' });
    expect(again).toMatchObject({ task_id: 'busy-1', status: 'RUNNING' });
    await waitFor('busy-1 to run its step again', () => (progressTasks.get('busy-1')?.endsWith(':2') ? true : undefined));
    const natsRerun = await stack.nats.request(ORCHESTRATOR_RERUN_SUBJECT, { task_id: 'h-1' });
    expect(natsRerun).toMatchObject({ status: 'RUNNING', task_id: expect.stringMatching(/^h-1\.rerun-/) as unknown });
  });
});
