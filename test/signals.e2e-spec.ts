import { join } from 'node:path';
import { ORCHESTRATOR_SIGNAL_SUBJECT, ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { pairAgents } from './support/pair-agents.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'waits');

interface StepView {
  step: string;
  status: string;
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  wait?: { kind: string; signal?: string; until: string | null; on_timeout?: string } | null;
}

describe('signals and approvals', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, agents: pairAgents(), waitForAgents: 2 });

  const signal = (body: Record<string, unknown>): Promise<Record<string, unknown>> => stack.nats.request(ORCHESTRATOR_SIGNAL_SUBJECT, body);
  const post = async (path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${stack.orchestrator.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const steps = async (taskId: string): Promise<Record<string, StepView>> => {
    const detail = await stack.get<{ steps: StepView[] }>(`/tasks/${taskId}`);
    return Object.fromEntries(detail.steps.map((step) => [step.step, step]));
  };
  const waitingAt = (taskId: string, step: string): Promise<StepView> =>
    waitFor(`${taskId} to wait at ${step}`, async () => {
      const view = (await steps(taskId))[step];
      return view?.status === 'WAITING' ? view : undefined;
    });
  const history = async (taskId: string): Promise<{ kind: string; step_id: string | null; data: Record<string, unknown> | null }[]> =>
    (await stack.get<{ items: { kind: string; step_id: string | null; data: Record<string, unknown> | null }[] }>(`/tasks/${taskId}/events?limit=1000`)).items;

  it('waits for a person: the step is WAITING with its input; the approval over NATS completes it and the workflow goes on', async () => {
    const final = stack.submit({ task_id: 'appr-1', task_type: 'e2e_approval', payload: { text: 'hello' } }, 60_000);
    const waiting = await waitingAt('appr-1', 'approve');
    expect(waiting.input).toEqual({ text: 'HELLO' });
    expect(waiting.wait).toEqual({ kind: 'signal', signal: 'approval', until: null, on_timeout: 'fail' });
    const approvals = await stack.get<{ items: { task_id: string; step: string; signal: string; input: unknown; payload: Record<string, unknown> }[] }>('/approvals');
    expect(approvals.items.find((item) => item.task_id === 'appr-1')).toMatchObject({ step: 'approve', signal: 'approval', input: { text: 'HELLO' }, payload: { approved: { type: 'boolean', required: true } } });

    const reply = await signal({ task_id: 'appr-1', signal: 'approval', payload: { approved: true, comment: 'fine' }, requester_id: 'e2e_reviewer' });
    expect(reply).toEqual({ task_id: 'appr-1', signal: 'approval', status: 'ACCEPTED', error: null, outcome: 'delivered', step: 'approve' });
    const response = await final;
    expect(response).toMatchObject({ status: 'COMPLETED', result: { output: { approved: true, comment: 'fine', published: '[HELLO]' } } });
    const signalled = (await history('appr-1')).find((event) => event.kind === 'signal_received');
    expect(signalled).toMatchObject({ step_id: 'approve', data: { signal: 'approval', via: 'nats', by: 'e2e_reviewer', signal_id: null } });
  });

  it('a rejection over HTTP branches: the publish step is skipped; who signalled is the API key (none here)', async () => {
    const final = stack.submit({ task_id: 'appr-2', task_type: 'e2e_approval', payload: { text: 'no' } }, 60_000);
    await waitingAt('appr-2', 'approve');
    const { status, body } = await post('/tasks/appr-2/signals/approval', { approved: false, comment: 'not now' });
    expect(status).toBe(202);
    expect(body).toMatchObject({ status: 'ACCEPTED', outcome: 'delivered', step: 'approve' });
    expect(await final).toMatchObject({ status: 'COMPLETED', result: { output: { approved: false, comment: 'not now', published: null } } });
    expect((await history('appr-2')).find((event) => event.kind === 'signal_received')?.data).toMatchObject({ via: 'http', by: null });
  });

  it('refuses a payload that does not fit the step (400 naming the field, REFUSED over NATS), an unknown task (404) and a finished one (409)', async () => {
    const final = stack.submit({ task_id: 'appr-3', task_type: 'e2e_approval', payload: { text: 'x' } }, 60_000);
    await waitingAt('appr-3', 'approve');
    const wrong = await post('/tasks/appr-3/signals/approval', { approved: 'yes' });
    expect(wrong).toEqual({ status: 400, body: expect.objectContaining({ code: 'INVALID_PAYLOAD', message: 'payload.approved: must be a boolean' }) as unknown });
    const missing = await signal({ task_id: 'appr-3', signal: 'approval', payload: { comment: 'x'.repeat(10) } });
    expect(missing).toMatchObject({ status: 'REFUSED', code: 'INVALID_PAYLOAD', error: 'payload.approved: is required' });
    const long = await signal({ task_id: 'appr-3', signal: 'approval', payload: { approved: true, comment: 'x'.repeat(2001) } });
    expect(long).toMatchObject({ status: 'REFUSED', error: 'payload.comment: must be at most 2000 characters' });
    expect(await signal({ task_id: 'appr-3', signal: 'bad name!', payload: {} })).toMatchObject({ status: 'REFUSED', error: expect.stringMatching(/^signal: must match/) as unknown });
    expect(await signal({ task_id: 'appr-3', signal: 'other', payload: {} })).toMatchObject({ status: 'REFUSED', error: 'signal: no step of task appr-3 waits for signal "other"' });
    expect((await post('/tasks/nobody-here/signals/approval', { approved: true })).status).toBe(404);
    // Still waiting: nothing wrong was taken.
    expect((await steps('appr-3'))['approve']?.status).toBe('WAITING');

    expect((await post('/tasks/appr-3/signals/approval', { approved: true })).status).toBe(202);
    await final;
    const again = await post('/tasks/appr-3/signals/approval', { approved: true });
    expect(again).toEqual({ status: 409, body: expect.objectContaining({ code: 'TASK_FINISHED' }) as unknown });
    expect(await signal({ task_id: 'appr-3', signal: 'approval', payload: { approved: true } })).toMatchObject({ status: 'REFUSED', error: 'task appr-3 has already finished as COMPLETED' });
  });

  it('keeps signals that come before their step, gives them in the order they came, one per step, and takes a signal_id once', async () => {
    const final = stack.submit({ task_id: 'order-1', task_type: 'e2e_signal_order' }, 60_000);
    await waitingAt('order-1', 'go');
    const first = await signal({ task_id: 'order-1', signal: 'approval', payload: { n: 1 }, signal_id: 'sig-a' });
    expect(first).toMatchObject({ status: 'ACCEPTED', outcome: 'kept', step: 'first' });
    const repeat = await post('/tasks/order-1/signals/approval?signal_id=sig-a', { n: 99 });
    expect(repeat).toEqual({ status: 202, body: expect.objectContaining({ status: 'ACCEPTED', duplicate: true }) as unknown });
    const second = await fetch(`${stack.orchestrator.baseUrl}/tasks/order-1/signals/approval`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'sig-b' },
      body: JSON.stringify({ n: 2 }),
    });
    expect(second.status).toBe(202);
    expect(await signal({ task_id: 'order-1', signal: 'approval', payload: { n: 98 }, signal_id: 'sig-b' })).toMatchObject({ status: 'ACCEPTED', duplicate: true });
    // Kept durably: in the table, in arrival order, none taken yet.
    const kept = await stack.db.query<{ signal_id: string; payload: unknown; taken_by: string | null }>(
      `SELECT s.signal_id, s.payload, s.taken_by FROM workflow_signals s JOIN tasks r ON r.id = s.root_id WHERE r.task_id = 'order-1' AND s.signal = 'approval' ORDER BY s.id`,
    );
    expect(kept).toEqual([
      { signal_id: 'sig-a', payload: { n: 1 }, taken_by: null },
      { signal_id: 'sig-b', payload: { n: 2 }, taken_by: null },
    ]);
    expect((await steps('order-1'))['first']?.status).toBe('PENDING');

    expect(await signal({ task_id: 'order-1', signal: 'go', payload: {} })).toMatchObject({ status: 'ACCEPTED', outcome: 'delivered', step: 'go' });
    expect(await final).toMatchObject({ status: 'COMPLETED', result: { output: { first: { n: 1 }, second: { n: 2 } } } });
    const events = await history('order-1');
    expect(events.filter((event) => event.kind === 'signal_received').map((event) => [event.step_id, event.data?.['signal_id'], event.data?.['kept'] ?? false])).toEqual([
      ['first', 'sig-a', true],
      ['first', 'sig-b', true],
      ['go', null, false],
    ]);
    expect(events.filter((event) => event.kind === 'step_completed').map((event) => [event.step_id, event.data?.['signal_id']])).toEqual([
      ['go', null],
      ['first', 'sig-a'],
      ['second', 'sig-b'],
    ]);
  });

  it('times out each way: fail (an optional step fails), skip, continue with its default', async () => {
    const response = await stack.submit({ task_id: 'late-1', task_type: 'e2e_wait_timeouts' }, 60_000);
    expect(response).toMatchObject({
      status: 'COMPLETED',
      result: {
        output: {
          failing: 'failed',
          skipping: { skipped: true, reason: 'no signal "never" came within 500 ms' },
          continuing: { approved: false },
        },
      },
    });
    const view = await steps('late-1');
    expect(view['failing']).toMatchObject({ status: 'FAILED', error: 'no signal "never" came within 500 ms' });
    expect(view['after']).toMatchObject({ status: 'COMPLETED', result: {} });
    const timedOut = (await history('late-1')).filter((event) => event.kind === 'timed_out').map((event) => [event.step_id, event.data?.['on_timeout']]);
    expect(timedOut.sort()).toEqual([
      ['after', 'continue'],
      ['continuing', 'continue'],
      ['failing', 'fail'],
      ['skipping', 'skip'],
    ]);

    const failed = await stack.submit({ task_id: 'late-2', task_type: 'e2e_wait_deadline' }, 60_000);
    expect(failed).toMatchObject({ status: 'FAILED', error: 'step "approve" (wait_for) failed: no signal "approval" came within 500 ms' });
  });

  it('a cancelled workflow leaves no waiting row behind, and a retry waits again', async () => {
    void stack.nats.request(ORCHESTRATOR_TASK_SUBJECT, { task_id: 'cancel-w', task_type: 'e2e_signal_order' }, 60_000).catch(() => undefined);
    await waitingAt('cancel-w', 'go');
    await post('/tasks/cancel-w/cancel', {});
    const [row] = await stack.db.query<{ status: string; deadline_at: Date | null }>(
      `SELECT s.status, s.deadline_at FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE r.task_id = 'cancel-w' AND s.step_key = 'go'`,
    );
    expect(row).toEqual({ status: 'CANCELLED', deadline_at: null });
    const [{ waiting }] = await stack.db.query<{ waiting: number }>(`SELECT count(*)::int AS waiting FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE r.task_id = 'cancel-w' AND s.status = 'WAITING'`);
    expect(waiting).toBe(0);
    await waitFor('the cancelled final response to be sent', async () => {
      const [root] = await stack.db.query<{ sent: boolean }>(`SELECT response_sent_at IS NOT NULL AS sent FROM tasks WHERE task_id = 'cancel-w' AND parent_id IS NULL`);
      return root?.sent ? true : undefined;
    });
    expect((await post('/tasks/cancel-w/retry', {})).status).toBe(200);
    await waitingAt('cancel-w', 'go');
  });
});
