import { join } from 'node:path';
import { type NatsConnection } from '@nats-io/transport-node';
import { Agent } from '@orchestrator/agent-sdk';
import {
  AGENT_HEARTBEAT_SUBJECT,
  agentAnnouncementSubject,
  agentResponseSubject,
  agentTaskSubject,
  externalEventSubject,
  ORCHESTRATOR_SIGNAL_SUBJECT,
  ORCHESTRATOR_TASK_SUBJECT,
  ORCHESTRATOR_WORKFLOW_SUBJECT,
  orchestratorReplySubject,
} from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { waitFor, waitForAgents } from './support/orchestrator-process.js';
import { SecuredNats, violations } from './support/secured-nats.js';
import { useTestStack } from './support/test-stack.js';

const ROOT = new URL('..', import.meta.url).pathname;
const FIXTURES = join(ROOT, 'test', 'fixtures', 'permissions');

describe('NATS permissions of deploy/nats/permissions.conf', () => {
  let nats: SecuredNats;
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    env: () => ({ NATS_URL: nats.url, NATS_USER: 'orchestrator', NATS_PASSWORD: nats.password('orchestrator'), NATS_INBOX_PREFIX: '_INBOX_orchestrator' }),
    before: async () => {
      nats = await SecuredNats.start();
    },
  });
  stack.onStop(() => nats?.stop());

  const login = (user: string): Promise<NatsConnection> => nats.login(user);

  it("runs a workflow with each agent logged in as itself; an agent cannot see, nor answer, another agent's sub-task", async () => {
    let releaseDraft!: () => void;
    const drafted = new Promise<void>((resolve) => (releaseDraft = resolve));
    const connections = { drafting: await login('drafting_agent'), examination: await login('examination_agent') };
    const drafting = new Agent({ name: 'drafting_agent', agentType: 'drafter', connection: connections.drafting }).handle('e2e_draft', async (payload) => {
      await drafted;
      return { text: `draft of ${String(payload['text'])}` };
    });
    const examination = new Agent({ name: 'examination_agent', agentType: 'reviewer', connection: connections.examination }).handle(
      'e2e_review',
      (payload) => Promise.resolve({ text: `reviewed ${String(payload['text'])}` }),
    );
    const gateway = await login('gateway');
    // An examination agent that misbehaves, with its own (valid) credentials.
    const rogue = await login('examination_agent');
    const refused = violations(rogue);
    try {
      await drafting.start();
      await examination.start();
      await waitForAgents(stack.orchestrator.baseUrl, 2);

      const answer = gateway.request(ORCHESTRATOR_TASK_SUBJECT, JSON.stringify({ task_id: 'guarded-1', task_type: 'e2e_guarded', payload: { text: 'x' } }), {
        // Long enough for the checks below on a busy machine: they fail on their own, and sooner.
        timeout: 150_000,
      });
      answer.catch(() => undefined);
      const [step] = await waitFor('the draft step to be running', async () => {
        const rows = await stack.db.query<{ id: string; attempts: number }>(
          `SELECT s.id, s.attempts FROM tasks s JOIN tasks r ON s.root_id = r.id WHERE r.task_id = 'guarded-1' AND s.step_key = 'draft' AND s.status = 'RUNNING'`,
        );
        return rows.length > 0 ? rows : undefined;
      });
      const subtaskId = `${step.id}:${step.attempts}`;
      const { replica_id: replicaId } = await stack.get<{ replica_id: string }>('/status');
      const forged = JSON.stringify({ task_id: subtaskId, status: 'COMPLETED', success: true, result: { text: 'forged' }, error: null });

      // It cannot listen to another agent's sub-tasks, nor answer as that agent or on the reply subject of a sub-task it was not given.
      rogue.subscribe(agentTaskSubject('drafting_agent'));
      rogue.publish(agentResponseSubject('drafting_agent'), forged);
      rogue.publish(orchestratorReplySubject(replicaId, 'made-up-token', subtaskId), forged);
      // Nor send sub-tasks, nor start child workflows.
      rogue.publish(agentTaskSubject('drafting_agent'), JSON.stringify({ task_id: 'x', task_type: 'e2e_draft' }));
      rogue.publish(ORCHESTRATOR_WORKFLOW_SUBJECT, JSON.stringify({ task_id: subtaskId, task_type: 'e2e_guarded' }));
      // As itself it may answer, and the orchestrator refuses the answer: the sub-task was sent to another agent.
      rogue.publish(agentResponseSubject('examination_agent'), forged);
      // It announces only as itself, on its own subject.
      const announcement = JSON.stringify({ name: 'drafting_agent', instance_id: 'rogue', agent_type: 'drafter', capabilities: ['e2e_draft'], ts: Date.now() / 1000 });
      rogue.publish(AGENT_HEARTBEAT_SUBJECT, announcement);
      rogue.publish(agentAnnouncementSubject('drafting_agent', 'heartbeat'), announcement);
      await rogue.flush();
      await waitFor('the server to refuse seven operations', () => (refused.length >= 7 ? true : undefined), 5_000);
      expect(refused.join('\n')).toContain(`Permissions Violation for Subscription to "${agentTaskSubject('drafting_agent')}"`);
      for (const subject of [
        agentResponseSubject('drafting_agent'),
        orchestratorReplySubject(replicaId, 'made-up-token', subtaskId),
        agentTaskSubject('drafting_agent'),
        ORCHESTRATOR_WORKFLOW_SUBJECT,
        AGENT_HEARTBEAT_SUBJECT,
        agentAnnouncementSubject('drafting_agent', 'heartbeat'),
      ]) {
        expect(refused.join('\n')).toContain(`Permissions Violation for Publish to "${subject}"`);
      }
      expect(refused).toHaveLength(7);
      const refusedBySender = await waitFor('the forged answer to be refused', async () => {
        const metrics = await (await fetch(`${stack.orchestrator.baseUrl}/metrics`)).text();
        const count = /orchestrator_responses_refused_total\{reason="sender"\} (\d+)/.exec(metrics)?.[1];
        return count === undefined || count === '0' ? undefined : Number(count);
      });
      expect(refusedBySender).toBe(1);

      // The gateway may submit, not send sub-tasks.
      const gatewayRefused = violations(gateway);
      gateway.publish(agentTaskSubject('drafting_agent'), JSON.stringify({ task_id: 'y', task_type: 'e2e_draft' }));
      await gateway.flush();
      await waitFor('the gateway to be refused', () => (gatewayRefused.length > 0 ? true : undefined), 5_000);

      releaseDraft();
      const final = JSON.parse(new TextDecoder().decode((await answer).data)) as Record<string, unknown>;
      expect(final).toMatchObject({ task_id: 'guarded-1', status: 'COMPLETED', result: { output: { text: 'reviewed draft of x' } } });
    } finally {
      releaseDraft();
      await Promise.all([drafting.stop(), examination.stop()]);
      await Promise.all([gateway.close(), rogue.close(), connections.drafting.close(), connections.examination.close()]);
    }
  }, 180_000);

  it('lets a client signal a waiting workflow and publish the external event it waits for', async () => {
    const gateway = await login('gateway');
    const refused = violations(gateway);
    const encode = (body: unknown): string => JSON.stringify(body);
    try {
      const answer = gateway.request(ORCHESTRATOR_TASK_SUBJECT, encode({ task_id: 'guarded-wait-1', task_type: 'e2e_guarded_wait', payload: { order: 'o-1' } }), { timeout: 30_000 });
      const waitingAt = (step: string): Promise<true> =>
        waitFor(`guarded-wait-1 to wait at ${step}`, async () => {
          const rows = await stack.db.query(`SELECT 1 FROM tasks s JOIN tasks r ON s.root_id = r.id WHERE r.task_id = 'guarded-wait-1' AND s.step_key = $1 AND s.status = 'WAITING'`, [step]);
          return rows.length > 0 ? true : undefined;
        });
      await waitingAt('approve');
      const reply = await gateway.request(ORCHESTRATOR_SIGNAL_SUBJECT, encode({ task_id: 'guarded-wait-1', signal: 'approval', payload: { approved: true } }), { timeout: 10_000 });
      expect(JSON.parse(new TextDecoder().decode(reply.data))).toMatchObject({ status: 'ACCEPTED', outcome: 'delivered' });
      await waitingAt('shipped');
      gateway.publish(externalEventSubject('order.shipped'), encode({ order: 'o-1', carrier: 'post' }));
      const final = JSON.parse(new TextDecoder().decode((await answer).data)) as Record<string, unknown>;
      expect(final).toMatchObject({ task_id: 'guarded-wait-1', status: 'COMPLETED', result: { output: { approved: true, carrier: 'post' } } });
      expect(refused).toEqual([]);
    } finally {
      await gateway.close();
    }
  });
});
