import { join } from 'node:path';
import { headers } from '@nats-io/transport-node';
import { Agent } from '@orchestrator/agent-sdk';
import { agentResponseSubject, ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { metric } from './support/metrics.js';
import { waitFor } from './support/orchestrator-process.js';
import { pairAgents } from './support/pair-agents.js';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');

describe('how agents answer', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES });
  let agents: Agent[] = [];

  async function startAgents(
    answerBy: 'reply' | 'publish',
    second: (text: string) => Record<string, unknown>,
  ): Promise<void> {
    const first = new Agent({ name: 'e2e_first', agentType: 'test', natsUrl: testEnv().natsUrl, answerBy });
    first.handle('e2e_upper', (payload) => Promise.resolve({ text: String(payload['text']).toUpperCase() }));
    const wrap = new Agent({ name: 'e2e_second', agentType: 'test', natsUrl: testEnv().natsUrl, answerBy });
    wrap.handle('e2e_wrap', (payload) => Promise.resolve(second(String(payload['text']))));
    agents = await stack.startAgents(first, wrap);
  }

  afterEach(async () => {
    await stack.stopAgents();
    agents = [];
  });

  it('accepts answers published on agent.<name>.response instead of replies', async () => {
    await startAgents('publish', (text) => ({ text: `[${text}]` }));
    const response = await stack.submit({ task_id: 'pub-1', task_type: 'e2e_pair', payload: { text: 'hello' } });
    expect(response).toMatchObject({ task_id: 'pub-1', status: 'COMPLETED', success: true });
    expect(response['result']).toEqual({
      output: { text: '[HELLO]' },
      steps: { first: { text: 'HELLO' }, second: { text: '[HELLO]' } },
    });
    expect(agents.every((agent) => agent.stats.completed === 1)).toBe(true);
  });

  it('fails the workflow naming the step when an agent keeps answering FAILED', async () => {
    await startAgents('reply', () => {
      throw new Error('the wrapper is out of brackets');
    });
    const response = await stack.submit({ task_id: 'fail-1', task_type: 'e2e_pair', payload: { text: 'doomed' } });
    expect(response).toMatchObject({ task_id: 'fail-1', status: 'FAILED', success: false });
    expect(response['error']).toBe(
      'step "second" (agent e2e_second) failed after 2 attempts: the wrapper is out of brackets',
    );
    expect(response['result']).toEqual({ steps: { first: { text: 'DOOMED' } }, failed_step: 'second', failed_agent: 'e2e_second' });
    const steps = await stack.db.query<{ step_key: string; status: string; attempts: number }>(
      `SELECT s.step_key, s.status, s.attempts FROM tasks s JOIN tasks r ON s.root_id = r.id
        WHERE r.task_id = 'fail-1' AND r.parent_id IS NULL AND s.parent_id IS NOT NULL ORDER BY s.step_key`,
    );
    expect(steps).toEqual([
      { step_key: 'first', status: 'COMPLETED', attempts: 1 },
      { step_key: 'second', status: 'FAILED', attempts: 2 },
    ]);
  });

  it('carries the W3C traceparent of the request to every sub-task and back to the requester', async () => {
    const seen: string[] = [];
    const first = new Agent({ name: 'e2e_first', agentType: 'test', natsUrl: testEnv().natsUrl });
    first.handle('e2e_upper', (payload, ctx) => {
      seen.push(ctx.headers['traceparent'] ?? 'none');
      return Promise.resolve({ text: String(payload['text']).toUpperCase() });
    });
    const wrap = new Agent({ name: 'e2e_second', agentType: 'test', natsUrl: testEnv().natsUrl });
    wrap.handle('e2e_wrap', (payload, ctx) => {
      seen.push(ctx.headers['traceparent'] ?? 'none');
      return Promise.resolve({ text: `[${String(payload['text'])}]` });
    });
    agents = await stack.startAgents(first, wrap);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const h = headers();
    h.set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`);
    const reply = await stack.nats.nc.request(ORCHESTRATOR_TASK_SUBJECT, JSON.stringify({ task_id: 'trace-1', task_type: 'e2e_pair', payload: { text: 't' } }), {
      timeout: 10_000,
      headers: h,
    });
    expect(reply.json()).toMatchObject({ status: 'COMPLETED' });
    expect(seen).toHaveLength(2);
    for (const traceparent of seen) expect(traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(reply.headers?.get('traceparent')).toBe(`00-${traceId}-00f067aa0ba902b7-01`);
  });

  it('runs another workflow as a step (a sub-workflow, as a sub-task to the orchestrator itself)', async () => {
    agents = await stack.startAgents(...pairAgents());
    const response = await stack.submit({ task_id: 'nested-1', task_type: 'e2e_nested', payload: { text: 'deep' } });
    expect(response).toMatchObject({ task_id: 'nested-1', status: 'COMPLETED', result: { output: { text: '[[DEEP]]' } } });
    const children = await stack.db.query<{ task_type: string; status: string }>(
      `SELECT c.task_type, c.status FROM tasks c
        WHERE c.parent_id IS NULL AND c.task_id IN (
          SELECT s.id || ':' || s.attempts FROM tasks s JOIN tasks r ON s.root_id = r.id WHERE r.task_id = 'nested-1' AND s.step_key = 'inner')`,
    );
    expect(children).toEqual([{ task_type: 'e2e_pair', status: 'COMPLETED' }]);
  });

  it('drops a late, duplicate or forged answer without changing the workflow', async () => {
    await startAgents('reply', (text) => ({ text: `<${text}>` }));
    const response = await stack.submit({ task_id: 'late-1', task_type: 'e2e_pair', payload: { text: 'x' } });
    expect(response['status']).toBe('COMPLETED');
    const [second] = await stack.db.query<{ id: string; attempts: number }>(
      `SELECT s.id, s.attempts FROM tasks s JOIN tasks r ON s.root_id = r.id WHERE r.task_id = 'late-1' AND s.step_key = 'second'`,
    );
    const droppedBefore = await metric(stack.orchestrator.baseUrl, 'orchestrator_responses_dropped_total');
    const forged = { status: 'FAILED', success: false, result: null, error: 'forged', completed_at: Date.now() / 1000 };
    stack.nats.publish(agentResponseSubject('e2e_second'), { ...forged, task_id: `${second?.id}:${second?.attempts}` });
    stack.nats.publish(agentResponseSubject('e2e_second'), { ...forged, task_id: `${second?.id}:7` });
    stack.nats.publish(agentResponseSubject('e2e_second'), { ...forged, task_id: 'not-a-subtask' });
    await stack.nats.flush();
    // Each drop is counted (and logged once a minute per sender): wait for the count rather than for time to pass.
    await waitFor('the three drops to be counted', async () => ((await metric(stack.orchestrator.baseUrl, 'orchestrator_responses_dropped_total')) - droppedBefore >= 3 ? true : undefined));
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(stack.orchestrator.logFile, 'utf8')).toMatch(/dropped a FAILED response on agent\.e2e_second\.response for \S+: (that attempt is not running \(late or duplicate\)|no such sub-task)/);
    const rows = await stack.db.query<{ status: string; error: string | null }>(
      `SELECT status, error FROM tasks WHERE root_id = (SELECT id FROM tasks WHERE task_id = 'late-1' AND parent_id IS NULL)`,
    );
    expect(rows.every((row) => row.status === 'COMPLETED' && row.error === null)).toBe(true);
  });
});
