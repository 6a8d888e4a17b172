import { join } from 'node:path';
import { Agent } from '@orchestrator/agent-sdk';
import { agentResponseSubject, agentTaskSubject, orchestratorReplySubject, parseReplySubject } from '@orchestrator/contracts';
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

  it('refuses an answer from another agent, one on a reply subject no orchestrator made, and one on the reply subject of another sub-task; the real one counts', async () => {
    // What an eavesdropper on the agent's task subject learns: the signed reply subject of the attempt.
    const replies: string[] = [];
    const tap = stack.nats.nc.subscribe(agentTaskSubject('e2e_first'), {
      callback: (_err, msg) => {
        if (msg.reply) replies.push(msg.reply);
      },
    });
    const answer = stack.submit({ task_id: 'bound-1', task_type: 'e2e_pair', payload: { text: 'real' } }, 30_000);
    const [running] = await waitFor('the first step to be running', async () => {
      const rows = await stack.db.query<{ id: string; attempts: number }>(
        `SELECT s.id, s.attempts FROM tasks s JOIN tasks r ON s.root_id = r.id
          WHERE r.task_id = 'bound-1' AND s.step_key = 'first' AND s.status = 'RUNNING'`,
      );
      return rows.length === 1 && held.length === 1 && replies.length === 1 ? rows : undefined;
    });
    tap.unsubscribe();
    const taskId = `${running?.id ?? ''}:${running?.attempts ?? 0}`;
    const signed = replies[0] ?? '';
    expect(parseReplySubject(signed)?.subtaskId).toBe(taskId);
    const forged = { task_id: taskId, status: 'COMPLETED', success: true, result: { text: 'FORGED' }, error: null };
    // An agent that was not sent the attempt, under its own name.
    stack.nats.publish(agentResponseSubject('e2e_second'), forged);
    // A reply subject made up for this very attempt: its token is not the orchestrators'.
    stack.nats.publish(orchestratorReplySubject('any-replica', 'AAAAAAAAAAAAAAAAAAAAAA', taskId), forged);
    // The attempt's real reply subject, with another sub-task's id in the body.
    stack.nats.publish(signed, { ...forged, task_id: '00000000-0000-4000-8000-000000000001:1' });
    await stack.nats.flush();
    const refused = await waitFor('the three forgeries to be refused', async () => {
      const metrics = await (await fetch(`${stack.orchestrator.baseUrl}/metrics`)).text();
      const count = (reason: string): string | undefined => new RegExp(`orchestrator_responses_refused_total\\{reason="${reason}"\\} (\\d+)`).exec(metrics)?.[1];
      return count('sender') === '1' && count('reply_token') === '1' && count('reply_subject') === '1' ? metrics : undefined;
    });
    expect(refused).toBeDefined();
    // The step still waits for its own agent.
    const [still] = await stack.db.query<{ status: string }>(`SELECT status FROM tasks WHERE id = $1`, [running?.id]);
    expect(still?.status).toBe('RUNNING');
    held.shift()?.();
    expect(await answer).toMatchObject({ status: 'COMPLETED', result: { output: { text: '[REAL]' }, steps: { first: { text: 'REAL' } } } });
  });
});
