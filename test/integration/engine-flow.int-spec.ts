import { failedResponse, ORCHESTRATOR_AGENT_NAME, TaskPriority, TaskStatus } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { ReplyTokens } from '../../apps/orchestrator/src/delegation/reply-tokens.js';
import { useEngineHarness } from './support/engine-harness.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/**
 * A workflow from its submission to its final response, through the engine's entry points, on a
 * real PostgreSQL and Redis: what is stored, what is sent (sub-tasks with their headers, final
 * responses, lifecycle events, history) and in which order.
 */
describe('the engine, from submission to final response', () => {
  const harness = useEngineHarness({
    workflows: {
      fan: {
        steps: [
          { id: 'a', agent: 'alpha', task_type: 'work_a', input: { topic: { $ref: 'request.payload.topic' }, fixed: 1 } },
          { id: 'b', agent: 'beta', task_type: 'work_b', input: { topic: { $ref: 'request.payload.topic' } } },
          { id: 'join', agent: 'alpha', task_type: 'work_join', depends_on: ['a', 'b'], input: { from_a: { $ref: 'steps.a.result.text' }, from_b: { $ref: 'steps.b.result.text' } } },
        ],
        output: { joined: { $ref: 'steps.join.result.text' } },
      },
      parent: { steps: [{ id: 'child', workflow: 'fan', input: { topic: 'nested' } }] },
    },
  });

  it('stores the workflow and sends the steps that depend on nothing, with their headers, then the lifecycle events', async () => {
    const h = harness();
    const started = await h.submit({ task_id: 'flow-1', task_type: 'fan', payload: { topic: 'graphs' }, priority: TaskPriority.High, requester_id: 'asker' }, { replyTo: 'reply.here', traceparent: TRACEPARENT });
    expect(started).toMatchObject({ created: true, root: { task_id: 'flow-1', status: TaskStatus.Running } });

    const root = await h.root('flow-1');
    const rows = await h.rows('flow-1');
    expect([...rows.keys()].sort()).toEqual(['a', 'b', 'join']);
    expect(rows.get('a')).toMatchObject({ status: 'RUNNING', attempts: 1, agent_name: 'alpha' });
    expect(rows.get('b')).toMatchObject({ status: 'RUNNING', attempts: 1, agent_name: 'beta' });
    expect(rows.get('join')).toMatchObject({ status: 'PENDING', attempts: 0 });

    const sent = h.sent();
    expect(sent.map((s) => [s.message.subject, s.stepKey, s.attempt])).toEqual([
      ['agent.alpha.task', 'a', 1],
      ['agent.beta.task', 'b', 1],
    ]);
    const a = h.last('a');
    expect(a.taskId).toBe(`${rows.get('a')?.id ?? ''}:1`);
    expect(a.message.body).toMatchObject({ task_id: a.taskId, task_type: 'work_a', payload: { topic: 'graphs', fixed: 1 }, priority: 'HIGH', requester_id: ORCHESTRATOR_AGENT_NAME });
    // Its reply subject carries the attempt's token, which any replica can check.
    const tokens = h.module.get(ReplyTokens);
    expect(a.message.options.reply).toBe(`agent.${ORCHESTRATOR_AGENT_NAME}.reply.int-replica.${tokens.token(a.taskId)}.${a.taskId}`);
    expect(tokens.verify(a.message.options.reply ?? '')).toEqual({ subtaskId: a.taskId, replica: 'int-replica' });
    expect(tokens.verify(`agent.${ORCHESTRATOR_AGENT_NAME}.reply.int-replica.${tokens.token(h.last('b').taskId)}.${a.taskId}`)).toBeNull();
    expect(a.message.options.headers).toMatchObject({ 'Orchestrator-Root-Task-Id': 'flow-1', 'Orchestrator-Step': 'a', 'Orchestrator-Attempt': '1' });
    expect(a.message.options.headers?.['Orchestrator-Workflow-Depth']).toBeUndefined();
    // The request's trace goes on (with no OpenTelemetry SDK registered, in the request's own span).
    expect(a.message.options.headers?.['traceparent']).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);

    // Each attempt is recorded unsent as it is dispatched, and marked sent once published.
    await h.eventually('the sub-tasks to be marked sent', async () => ((await h.query(`SELECT 1 FROM unsent_dispatches`)).length === 0 ? true : undefined));
    expect(h.published.on('platform.events.task_created').map((m) => m.body)).toEqual([expect.objectContaining({ task_id: 'flow-1', task_type: 'fan', status: 'RUNNING' })]);
    expect(h.published.on('platform.events.task_started')).toHaveLength(1);
    expect(root).toMatchObject({ status: 'RUNNING', deadline_at: null, response_sent_at: null });
    expect((await h.history('flow-1')).map((e) => [e.kind, e.step_id])).toEqual([
      ['submitted', null],
      ['planned', null],
      ['dispatched', 'a'],
      ['dispatched', 'b'],
    ]);
  });

  it('sends the join once both answers are in, with their results as its input, and answers the requester once', async () => {
    const h = harness();
    await h.submit({ task_id: 'flow-2', task_type: 'fan', payload: { topic: 't' }, requester_id: 'asker' }, { replyTo: 'reply.flow-2', traceparent: TRACEPARENT });
    await h.answer(h.last('a'), { text: 'A' });
    expect(h.sentFor('join')).toEqual([]);
    expect((await h.rows('flow-2')).get('a')).toMatchObject({ status: 'COMPLETED', result: { text: 'A' } });
    await h.answer(h.last('b'), { text: 'B' });
    const join = h.last('join');
    expect(join.payload).toEqual({ from_a: 'A', from_b: 'B' });
    expect(join.message.subject).toBe('agent.alpha.task');

    expect(await h.answer(join, { text: 'AB' })).toBe('alpha');
    // Marked sent once published, after the commit.
    const root = await h.eventually('the final response to be marked sent', async () => {
      const found = await h.root('flow-2');
      return found.response_sent_at === null ? undefined : found;
    });
    expect(root).toMatchObject({ status: 'COMPLETED', error: null, deadline_at: null, next_attempt_at: null });
    expect(root.result).toEqual({ output: { joined: 'AB' }, steps: { a: { text: 'A' }, b: { text: 'B' }, join: { text: 'AB' } } });

    const final = { task_id: 'flow-2', status: 'COMPLETED', success: true, error: null, result: root.result };
    expect(h.published.on('reply.flow-2').map((m) => m.body)).toEqual([expect.objectContaining(final)]);
    expect(h.published.on('agent.asker.response').map((m) => m.body)).toEqual([expect.objectContaining(final)]);
    expect(h.published.on('platform.events.task_completed').map((m) => m.body)).toEqual([expect.objectContaining({ ...final, task_type: 'fan' })]);
    expect(h.published.on('reply.flow-2')[0]?.options.headers).toEqual({ traceparent: TRACEPARENT });
    const progress = h.published.on('platform.events.task_progress').map((m) => [m.body['step'], m.body['status'], m.body['done'], m.body['total']]);
    expect(progress).toEqual([
      ['a', 'COMPLETED', 1, 3],
      ['b', 'COMPLETED', 2, 3],
      ['join', 'COMPLETED', 3, 3],
    ]);
    const kinds = (await h.history('flow-2')).map((e) => e.kind);
    expect(kinds.slice(-3)).toEqual(['answered', 'completed', 'answer_sent']);
    // The completed event carries the workflow's status as committed.
    expect((await h.history('flow-2')).find((e) => e.kind === 'completed')?.status).toBe('COMPLETED');
  });

  it('drops duplicate, late and unknown answers, ignores RUNNING ones, and refuses one from another agent', async () => {
    const h = harness();
    await h.submit({ task_id: 'flow-3', task_type: 'fan', payload: { topic: 't' } });
    const a = h.last('a');
    expect(await h.answer(a, { ...failedResponse(a.taskId, 'not yet'), status: TaskStatus.Running })).toBeNull();
    expect((await h.rows('flow-3')).get('a')).toMatchObject({ status: 'RUNNING', attempts: 1 });

    expect(await h.answer(a, { text: 'from someone else' }, 'beta')).toBeNull();
    expect((await h.rows('flow-3')).get('a')).toMatchObject({ status: 'RUNNING', result: null });
    const refusals = await h.metrics.registry.getSingleMetricAsString('orchestrator_responses_refused_total');
    expect(refusals).toMatch(/reason="sender"} 1\b/);

    expect(await h.answer(a, { text: 'first' }, 'alpha')).toBe('alpha');
    expect(await h.answer(a, { text: 'second' })).toBeNull();
    expect(await h.answer({ ...a, taskId: `${a.rowId}:2` }, { text: 'a later attempt' })).toBeNull();
    expect(await h.answer({ ...a, taskId: '00000000-0000-4000-8000-000000000000:1' }, { text: 'nobody asked' })).toBeNull();
    expect(await h.answer({ ...a, taskId: 'not-a-subtask' }, { text: 'nothing' })).toBeNull();
    expect((await h.rows('flow-3')).get('a')).toMatchObject({ status: 'COMPLETED', result: { text: 'first' } });
    expect(await h.metrics.registry.getSingleMetricAsString('orchestrator_responses_dropped_total')).toMatch(/orchestrator_responses_dropped_total 2\b/);
  });

  it('answers a repeated task_id with the workflow it already has, and starts nothing', async () => {
    const h = harness();
    const first = await h.submit({ task_id: 'flow-4', task_type: 'fan', payload: { topic: 't' } }, { fingerprint: 'f1' });
    const again = await h.submit({ task_id: 'flow-4', task_type: 'fan', payload: { topic: 't' } }, { fingerprint: 'f1' });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, root: { id: first.root.id, request_hash: 'f1' } });
    expect(h.sent()).toHaveLength(2);
    expect(await h.query(`SELECT id FROM tasks WHERE task_id = 'flow-4'`)).toHaveLength(1);
  });

  it('starts the two requests of one task_id arriving together once', async () => {
    const h = harness();
    const both = await Promise.all([h.submit({ task_id: 'flow-5', task_type: 'fan', payload: { topic: 't' } }), h.submit({ task_id: 'flow-5', task_type: 'fan', payload: { topic: 't' } })]);
    expect(both.map((s) => s.created).sort()).toEqual([false, true]);
    expect(both[0].root.id).toBe(both[1].root.id);
    expect(h.sent()).toHaveLength(2);
    expect(await h.query(`SELECT id FROM tasks WHERE root_id = $1`, [both[0].root.id])).toHaveLength(4);
  });

  it('sends a workflow step to the orchestrators themselves with the depth its workflow runs at', async () => {
    const h = harness();
    await h.submit({ task_id: 'flow-6', task_type: 'parent' }, { depth: 2 });
    const child = h.last('child');
    expect(child.message.subject).toBe(`agent.${ORCHESTRATOR_AGENT_NAME}.workflow`);
    expect(child.message.body).toMatchObject({ task_type: 'fan', payload: { topic: 'nested' } });
    expect(child.message.options.headers).toMatchObject({ 'Orchestrator-Root-Task-Id': 'flow-6', 'Orchestrator-Step': 'child', 'Orchestrator-Attempt': '1', 'Orchestrator-Workflow-Depth': '3' });
    await h.answer(child, { output: { joined: 'x' }, steps: {} });
    expect(await h.root('flow-6')).toMatchObject({ status: 'COMPLETED', result: { output: null, steps: { child: { output: { joined: 'x' }, steps: {} } } } });
  });
});
