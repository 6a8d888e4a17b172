import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { agentResponseSubject, type HistoryEvent as WireEvent, type TaskDetailView } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { HistoryAgent } from './support/history-agent.js';
import { waitFor } from './support/orchestrator-process.js';
import { useTestStack } from './support/test-stack.js';

const ROOT = new URL('..', import.meta.url).pathname;

/** An event as it comes over HTTP: its kind a plain string. */
type HistoryEvent = Omit<WireEvent, 'kind'> & { kind: string };
const CLI = join(ROOT, 'apps/cli/bin/orchestrator.js');

describe('retry from a chosen step, on two replicas', () => {
  const hist = new HistoryAgent();
  const stack = useTestStack({ workflowsDir: join(ROOT, 'test', 'fixtures', 'retry'), agents: [hist.agent], replicas: 2, waitForAgents: 1 });

  const replica = (n: number): string => stack.orchestrators[n]?.baseUrl ?? '';
  async function retry(taskId: string, body: unknown, on = 1): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${replica(on)}/tasks/${taskId}/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const task = (taskId: string): Promise<TaskDetailView> => stack.get<TaskDetailView>(`/tasks/${taskId}`);
  async function settled(taskId: string, status: string, answers = 1): Promise<HistoryEvent[]> {
    return waitFor(`${taskId} to be ${status} with ${answers} final answer(s) sent`, async () => {
      const { items } = await stack.get<{ items: HistoryEvent[] }>(`/tasks/${taskId}/events?limit=1000`);
      const sent = items.filter((e) => e.kind === 'answer_sent');
      return sent.length >= answers && sent.at(-1)?.status === status ? items : undefined;
    });
  }
  const items = (run: string): unknown[] => hist.of(run, 'each').map((d) => d.payload['item']);

  it('runs a failed step again with an edited input, and everything after it from its new result', async () => {
    const answers = stack.nats.collect(agentResponseSubject('e2e_requester'));
    await stack.nats.flush();
    hist.failing.add('rf-1');
    const first = await stack.submit({ task_id: 'rf-1', task_type: 'e2e_rerun', payload: { run: 'rf-1', items: [1, 2] }, requester_id: 'e2e_requester' });
    expect(first).toMatchObject({ status: 'FAILED', error: 'step "b" (agent e2e_hist) failed after 2 attempts: b is down' });
    await settled('rf-1', 'FAILED');

    const input = { step: 'b', run: 'rf-1-fixed', items: [7, 8, 9] };
    expect(await retry('rf-1', { from_step: 'b', input })).toEqual({ status: 200, body: { task_id: 'rf-1', status: 'RUNNING', links: { self: '/tasks/rf-1' } } });
    const events = await settled('rf-1', 'COMPLETED', 2);
    const [, second] = await answers.waitForCount(2);
    expect(second).toMatchObject({ task_id: 'rf-1', status: 'COMPLETED', result: { output: { items: [7, 8, 9] } } });
    // a kept its result; b's third attempt went with the new input; the for_each took its items from b's new result.
    expect(hist.of('rf-1', 'a')).toHaveLength(1);
    expect(hist.of('rf-1-fixed', 'b').map((d) => [d.attempt, d.payload['items']])).toEqual([[3, [7, 8, 9]]]);
    expect(items('rf-1')).toEqual([7, 8, 9]);
    expect(events.find((e) => e.kind === 'resumed')).toMatchObject({ data: { was: 'FAILED', from_step: 'b', input, steps: ['b', 'each', 'c'] } });

    const view = await task('rf-1');
    expect(view.progress).toEqual({ done: 4, skipped: 0, failed: 0, cancelled: 0, total: 4 });
    const b = view.steps.find((s) => s.step === 'b');
    expect(b).toMatchObject({ status: 'COMPLETED', input, attempts: 3, max_attempts: 4 });
    // The rows b and c had are kept for the record, apart from the plan's.
    expect(view.steps.filter((s) => /^b@\d+$/.test(s.step)).map((s) => s.status)).toEqual(['FAILED']);
    answers.stop();
  });

  it('runs a completed task again from a step: the steps before it keep their results, those after it run again', async () => {
    expect(await stack.submit({ task_id: 'rf-2', task_type: 'e2e_rerun', payload: { run: 'rf-2', items: ['x'] } })).toMatchObject({ status: 'COMPLETED' });
    await settled('rf-2', 'COMPLETED');
    const counts = (): number[] => ['a', 'b', 'each', 'c'].map((step) => hist.of('rf-2', step).length);
    expect(counts()).toEqual([1, 1, 1, 1]);

    expect((await retry('rf-2', { from_step: 'c' }, 0)).status).toBe(200);
    await settled('rf-2', 'COMPLETED', 2);
    expect(counts()).toEqual([1, 1, 1, 2]);

    expect((await retry('rf-2', { from_step: 'a' })).status).toBe(200);
    const events = await settled('rf-2', 'COMPLETED', 3);
    expect(counts()).toEqual([2, 2, 2, 3]);
    // Fresh rows: attempts start again at 1.
    expect(hist.of('rf-2', 'a').map((d) => d.attempt)).toEqual([1, 1]);
    expect(events.filter((e) => e.kind === 'resumed').map((e) => e.data?.['steps'])).toEqual([['c'], ['a', 'b', 'each', 'c']]);
    expect((await task('rf-2')).result).toMatchObject({ output: { items: ['x'] } });
  });

  it('refuses what cannot be done, naming why', async () => {
    hist.failing.add('rf-3');
    expect(await stack.submit({ task_id: 'rf-3', task_type: 'e2e_rerun', payload: { run: 'rf-3', items: [1] } })).toMatchObject({ status: 'FAILED' });
    await settled('rf-3', 'FAILED');
    const refusals: [unknown, number, string, string][] = [
      [{ from_step: 'z' }, 400, 'INVALID_REQUEST', 'from_step: task rf-3 has no step "z" (its steps: a, b, each, c)'],
      [{ input: { a: 1 } }, 400, 'INVALID_REQUEST', 'input: is given without from_step: name the step it is the input of'],
      [{ from_step: 'b', input: [1] }, 400, 'INVALID_REQUEST', 'input: must be a JSON object'],
      [{ from_step: 'each', input: { a: 1 } }, 400, 'INVALID_REQUEST', 'input: step "each" is a for_each step: the inputs of its items are built from its list'],
      [{ from_step: 'c', input: { a: 1 } }, 400, 'INVALID_REQUEST', 'input: step "c" was never sent, so it has no input to replace; retry from it without input'],
    ];
    for (const [body, status, code, message] of refusals) expect(await retry('rf-3', body)).toEqual({ status, body: { code, message } });
    expect(await retry('rf-none', { from_step: 'a' })).toMatchObject({ status: 404, body: { code: 'TASK_NOT_FOUND' } });
    // Nothing was changed by the refusals.
    expect((await task('rf-3')).status).toBe('FAILED');
  });

  it('is what the command line retries with', async () => {
    hist.failing.delete('rf-3');
    const run = (...args: string[]): Promise<{ status: number | null; out: string; err: string }> => {
      const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ORCHESTRATOR_URL: replica(0) } });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      return new Promise((resolve) => child.on('close', (status) => resolve({ status, out, err })));
    };
    const refused = await run('retry', 'rf-3', '--input', '{"a":1}');
    expect(refused.status).toBe(2);
    expect(refused.err).toContain('--input: needs --from <step>');
    const retried = await run('retry', 'rf-3', '--from', 'b', '--input', '{"step":"b","run":"rf-3-cli","items":["q"]}', '--watch');
    expect(retried.status).toBe(0);
    expect(retried.out).toContain('rf-3 COMPLETED');
    expect(items('rf-3')).toEqual(['q']);
  });
});
