import { TaskStatus } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import type { AgentLogger } from './agent-logger.js';
import { TaskRunner, withUsage, type Answer, type TaskContext } from './task-runner.js';

const quiet: AgentLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

function runner(maxConcurrency = 8): TaskRunner {
  return new TaskRunner({ agentName: 'test_agent', maxConcurrency, logger: quiet });
}

function request(taskId: string, taskType = 'echo', payload: Record<string, unknown> = {}): string {
  return JSON.stringify({ task_id: taskId, task_type: taskType, payload, requester_id: 'orchestrator_agent' });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function sent(answer: Answer | undefined): Record<string, unknown> {
  expect(answer).toBeDefined();
  return JSON.parse(answer?.body ?? 'null') as Record<string, unknown>;
}

describe('TaskRunner', () => {
  it('answers with a raw TaskResponse holding the handler result', async () => {
    const r = runner();
    r.handle('echo', (payload, ctx) => Promise.resolve({ got: payload['x'], taskId: ctx.taskId, requester: ctx.requesterId }));
    const body = sent(await r.run(new TextEncoder().encode(request('t-1', 'echo', { x: 42 }))));
    expect(Object.keys(body).sort()).toEqual(['completed_at', 'error', 'result', 'status', 'success', 'task_id']);
    expect(body).toMatchObject({
      task_id: 't-1',
      status: 'COMPLETED',
      success: true,
      error: null,
      result: { got: 42, taskId: 't-1', requester: 'orchestrator_agent' },
    });
    expect(body['completed_at']).toBeTypeOf('number');
    expect(r.stats).toMatchObject({ received: 1, completed: 1, failed: 0, held: 0, inFlight: 0 });
  });

  it('sends what a handler says its work cost as usage, and fails an answer whose usage is not one', async () => {
    const r = runner();
    r.handle('echo', (payload) => withUsage({ ok: true }, payload['usage'] as never));
    const good = sent(await r.run(request('u-1', 'echo', { usage: { input_tokens: 120, output_tokens: 30, cost: 0.002, note: 'ignored' } })));
    expect(good).toMatchObject({ status: 'COMPLETED', result: { ok: true }, usage: { input_tokens: 120, output_tokens: 30, cost: 0.002 } });
    expect(good['usage']).not.toHaveProperty('note');
    const bad = sent(await r.run(request('u-2', 'echo', { usage: { tokens: -3 } })));
    expect(bad).toMatchObject({ status: 'FAILED', error: 'handler of echo returned usage.tokens: must be a non-negative number' });
    expect(bad).not.toHaveProperty('usage');
  });

  it.each([
    ['not json', '', 'message: is not valid JSON'],
    ['[1,2]', '', 'request: must be a JSON object'],
    [JSON.stringify({ task_type: 'echo' }), '', 'task_id: is required'],
    [JSON.stringify({ task_id: 'bad-1', task_type: 'Not Valid' }), 'bad-1', 'task_type: must match'],
    [JSON.stringify({ task_id: 'bad-2', task_type: 'echo', payload: 'text' }), 'bad-2', 'payload: must be a JSON object'],
  ])('answers the malformed message %s with FAILED naming the field', async (data, taskId, error) => {
    const r = runner();
    let calls = 0;
    r.handle('echo', () => {
      calls += 1;
      return {};
    });
    const body = sent(await r.run(data));
    expect(body).toMatchObject({ task_id: taskId, status: 'FAILED', success: false, result: null });
    expect(body['error']).toContain(error);
    expect(calls).toBe(0);
    expect(r.stats.failed).toBe(1);
  });

  it('says when it has no handler for the task type', async () => {
    const r = runner();
    r.handle('echo', () => ({}));
    expect(sent(await r.run(request('t-1', 'other')))).toMatchObject({
      status: 'FAILED',
      error: 'agent test_agent has no handler for task_type other',
    });
  });

  it('refuses to register a handler under an invalid task type', () => {
    expect(() => runner().handle('Bad Type', () => ({}))).toThrow('does not match');
  });

  it('fails the task with the error of a handler that throws, synchronously or not', async () => {
    const r = runner();
    r.handle('async_boom', () => Promise.reject(new Error('the model is down')));
    r.handle('sync_boom', () => {
      throw new Error('payload.topic: is required');
    });
    r.handle('long_boom', () => Promise.reject(new Error('x'.repeat(5_000))));
    expect(sent(await r.run(request('a', 'async_boom')))).toMatchObject({ status: 'FAILED', success: false, error: 'the model is down' });
    expect(sent(await r.run(request('b', 'sync_boom')))).toMatchObject({ status: 'FAILED', error: 'payload.topic: is required' });
    const long = sent(await r.run(request('c', 'long_boom')));
    expect((long['error'] as string).length).toBeLessThanOrEqual(2_001);
    expect(r.stats.failed).toBe(3);
  });

  it.each([
    ['a string', () => 'text', 'returned string, not a plain object'],
    ['null', () => null as unknown as object, 'returned null, not a plain object'],
    ['an array', () => [1, 2], 'returned an array, not a plain object'],
    ['a class instance', () => new Map(), 'returned a class instance, not a plain object'],
    ['a value that is not JSON', () => ({ big: 10n }), 'result is not JSON'],
  ])('fails a task whose handler returns %s', async (_what, handler, error) => {
    const r = runner();
    r.handle('odd', handler as () => object);
    const body = sent(await r.run(request('t-odd', 'odd')));
    expect(body['status']).toBe('FAILED');
    expect(body['error']).toContain(error);
  });

  it('answers a repeated task id with the same answer without running the handler again', async () => {
    const r = runner();
    let calls = 0;
    r.handle('echo', () => {
      calls += 1;
      return { n: calls };
    });
    const first = await r.run(request('t-1'));
    const again = await r.run(request('t-1'));
    expect(again?.body).toBe(first?.body);
    expect(calls).toBe(1);
    expect(r.stats).toMatchObject({ received: 2, completed: 1, duplicates: 1 });
  });

  it('ignores a repeat of a task still running, and answers the original once it finishes', async () => {
    const r = runner();
    const gate = deferred();
    let calls = 0;
    r.handle('echo', async () => {
      calls += 1;
      await gate.promise;
      return { done: true };
    });
    const original = r.run(request('t-1'));
    await tick();
    expect(await r.run(request('t-1'))).toBeUndefined();
    gate.resolve();
    expect(sent(await original)).toMatchObject({ status: 'COMPLETED', result: { done: true } });
    expect(calls).toBe(1);
    expect(r.stats.duplicates).toBe(1);
  });

  it('runs at most maxConcurrency handlers at once, the others waiting in arrival order', async () => {
    const r = runner(2);
    const gates = new Map<string, () => void>();
    const started: string[] = [];
    r.handle('echo', (_payload, ctx) => {
      started.push(ctx.taskId);
      return new Promise((resolve) => gates.set(ctx.taskId, () => resolve({ id: ctx.taskId })));
    });
    const answers = ['t-1', 't-2', 't-3', 't-4', 't-5'].map((id) => r.run(request(id)));
    await tick();
    expect(started).toEqual(['t-1', 't-2']);
    expect(r.stats).toMatchObject({ inFlight: 2, held: 5, maxHeldSeen: 5 });
    gates.get('t-2')?.();
    await tick();
    expect(started).toEqual(['t-1', 't-2', 't-3']);
    gates.get('t-1')?.();
    await tick();
    expect(started).toEqual(['t-1', 't-2', 't-3', 't-4']);
    expect(r.stats).toMatchObject({ inFlight: 2, held: 3 });
    gates.get('t-3')?.();
    gates.get('t-4')?.();
    await tick();
    gates.get('t-5')?.();
    const bodies = (await Promise.all(answers)).map(sent);
    expect(bodies.map((b) => b['status'])).toEqual(Array(5).fill('COMPLETED'));
    expect(started).toEqual(['t-1', 't-2', 't-3', 't-4', 't-5']);
    expect(r.stats).toMatchObject({ maxInFlightSeen: 2, inFlight: 0, held: 0, completed: 5 });
  });

  it('aborts the signal of a running task: CANCELLED when the handler honours it', async () => {
    const r = runner();
    let seen: TaskContext | undefined;
    r.handle('slow', (_payload, ctx) => {
      seen = ctx;
      return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped'))));
    });
    const answer = r.run(request('t-1', 'slow'));
    await tick();
    expect(r.cancel('t-1')).toBe('running');
    expect(seen?.signal.aborted).toBe(true);
    expect(sent(await answer)).toMatchObject({ task_id: 't-1', status: 'CANCELLED', success: false, error: 'cancelled while running: stopped' });
    expect(r.stats.cancelled).toBe(1);
  });

  it('keeps the result of a handler that finishes despite the cancel', async () => {
    const r = runner();
    const gate = deferred();
    r.handle('stubborn', async () => {
      await gate.promise;
      return { finished: true };
    });
    const answer = r.run(request('t-1', 'stubborn'));
    await tick();
    r.cancel('t-1');
    gate.resolve();
    expect(sent(await answer)).toMatchObject({ status: 'COMPLETED', result: { finished: true } });
  });

  it('drops a waiting task on cancel: answered CANCELLED, never run', async () => {
    const r = runner(1);
    const gate = deferred();
    const ran: string[] = [];
    r.handle('echo', async (_payload, ctx) => {
      ran.push(ctx.taskId);
      await gate.promise;
      return {};
    });
    const first = r.run(request('t-1'));
    const second = r.run(request('t-2'));
    await tick();
    expect(r.cancel('t-2')).toBe('waiting');
    expect(sent(await second)).toMatchObject({ task_id: 't-2', status: TaskStatus.Cancelled, error: 'cancelled before it started' });
    gate.resolve();
    await first;
    expect(ran).toEqual(['t-1']);
    expect(r.stats).toMatchObject({ held: 0, cancelled: 1, completed: 1 });
  });

  it('remembers a cancel that arrives before its task', async () => {
    const r = runner();
    let calls = 0;
    r.handle('echo', () => {
      calls += 1;
      return {};
    });
    expect(r.cancel('t-early')).toBe('unknown');
    expect(sent(await r.run(request('t-early')))).toMatchObject({ status: 'CANCELLED' });
    expect(calls).toBe(0);
    expect(r.cancel('t-early')).toBe('unknown');
    expect(sent(await r.run(request('t-early')))).toMatchObject({ status: 'CANCELLED' });
  });

  it('gives the handler the trace headers and the attempt, and puts the trace headers on the answer', async () => {
    const r = runner();
    let ctx: TaskContext | undefined;
    r.handle('echo', (_payload, c) => {
      ctx = c;
      return {};
    });
    const answer = await r.run(request('t-1'), {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'vendor=1',
      'Orchestrator-Attempt': '3',
      'Orchestrator-Step': 'draft',
    });
    const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=1' };
    expect(ctx?.headers).toEqual(trace);
    expect(ctx?.attempt).toBe(3);
    expect(answer?.headers).toEqual(trace);
  });

  it('leaves the attempt out when the header is missing or not a positive integer', async () => {
    const r = runner();
    const attempts: (number | undefined)[] = [];
    r.handle('echo', (_payload, ctx) => {
      attempts.push(ctx.attempt);
      return {};
    });
    await r.run(request('a'));
    await r.run(request('b'), { 'Orchestrator-Attempt': 'two' });
    await r.run(request('c'), { 'orchestrator-attempt': '2' });
    expect(attempts).toEqual([undefined, undefined, 2]);
  });

  it('accounts for every message received', async () => {
    const r = runner();
    r.handle('echo', (payload) => (payload['fail'] ? Promise.reject(new Error('no')) : Promise.resolve({})));
    await r.run(request('a'));
    await r.run(request('a'));
    await r.run(request('b', 'echo', { fail: true }));
    await r.run('{');
    const { received, completed, failed, cancelled, duplicates } = r.stats;
    expect({ received, completed, failed, cancelled, duplicates }).toEqual({ received: 4, completed: 1, failed: 2, cancelled: 0, duplicates: 1 });
  });

  it('sends progress reports with the task_id as received, refuses a bad fraction naming it, and sends none once answered', async () => {
    const reports: unknown[] = [];
    const r = new TaskRunner({ agentName: 'test_agent', maxConcurrency: 1, logger: quiet, onProgress: (report) => reports.push(report) });
    let later: TaskContext | undefined;
    r.handle('work', (_payload, ctx) => {
      ctx.progress(0.25);
      ctx.progress(0.5, 'half way');
      expect(() => ctx.progress(1.5)).toThrow('progress: fraction must be a number from 0 to 1, got 1.5');
      expect(() => ctx.progress(0.6, 'x'.repeat(501))).toThrow(/message must be a string of at most 500 characters/);
      later = ctx;
      return {};
    });
    expect(sent(await r.run(request('sub-1:2', 'work')))).toMatchObject({ status: 'COMPLETED' });
    later?.progress(0.9, 'too late');
    expect(reports).toEqual([
      { task_id: 'sub-1:2', fraction: 0.25 },
      { task_id: 'sub-1:2', fraction: 0.5, message: 'half way' },
    ]);
  });
});
