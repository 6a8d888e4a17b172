import { join } from 'node:path';
import { Agent } from '@orchestrator/agent-sdk';
import { agentResponseSubject, orchestratorReplySubject } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');

/** e2e_first holds its sub-tasks until released, so that forgeries can be aimed at one running. */
const held: (() => void)[] = [];
const first = new Agent({ name: 'e2e_first', agentType: 'test', natsUrl: testEnv().natsUrl }).handle(
  'e2e_upper',
  (payload) => new Promise((resolve) => held.push(() => resolve({ text: String(payload['text']).toUpperCase() }))),
);
const second = new Agent({ name: 'e2e_second', agentType: 'test', natsUrl: testEnv().natsUrl }).handle('e2e_wrap', (payload) =>
  Promise.resolve({ text: `[${String(payload['text'])}]` }),
);

describe('answers bound to where their attempt was sent', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, agents: [first, second], waitForAgents: 2 });

  it('refuses an answer from another agent, and one on the reply subject of another sub-task; the real one counts', async () => {
    const answer = stack.submit({ task_id: 'bound-1', task_type: 'e2e_pair', payload: { text: 'real' } }, 30_000);
    const [running] = await waitFor('the first step to be running', async () => {
      const rows = await stack.db.query<{ id: string; attempts: number }>(
        `SELECT s.id, s.attempts FROM tasks s JOIN tasks r ON s.root_id = r.id
          WHERE r.task_id = 'bound-1' AND s.step_key = 'first' AND s.status = 'RUNNING'`,
      );
      return rows.length === 1 && held.length === 1 ? rows : undefined;
    });
    const taskId = `${running?.id ?? ''}:${running?.attempts ?? 0}`;
    const forged = { task_id: taskId, status: 'COMPLETED', success: true, result: { text: 'FORGED' }, error: null };
    // An agent that was not sent the attempt, under its own name.
    stack.nats.publish(agentResponseSubject('e2e_second'), forged);
    // The reply subject of another sub-task, with this attempt's task_id in the body.
    stack.nats.publish(orchestratorReplySubject('any-replica', '00000000-0000-4000-8000-000000000001:1'), forged);
    await stack.nats.flush();
    const refused = await waitFor('both forgeries to be refused', async () => {
      const metrics = await (await fetch(`${stack.orchestrator.baseUrl}/metrics`)).text();
      const sender = /orchestrator_responses_refused_total\{reason="sender"\} (\d+)/.exec(metrics)?.[1];
      const reply = /orchestrator_responses_refused_total\{reason="reply_subject"\} (\d+)/.exec(metrics)?.[1];
      return sender === '1' && reply === '1' ? metrics : undefined;
    });
    expect(refused).toBeDefined();
    // The step still waits for its own agent.
    const [still] = await stack.db.query<{ status: string }>(`SELECT status FROM tasks WHERE id = $1`, [running?.id]);
    expect(still?.status).toBe('RUNNING');
    held.shift()?.();
    expect(await answer).toMatchObject({ status: 'COMPLETED', result: { output: { text: '[REAL]' }, steps: { first: { text: 'REAL' } } } });
  });
});
