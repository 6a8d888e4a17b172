import { join } from 'node:path';
import { type NatsConnection } from '@nats-io/transport-node';
import { Agent } from '@orchestrator/agent-sdk';
import {
  agentResponseSubject,
  ORCHESTRATOR_CANCEL_SUBJECT,
  ORCHESTRATOR_RERUN_SUBJECT,
  ORCHESTRATOR_RETRY_SUBJECT,
  ORCHESTRATOR_SIGNAL_SUBJECT,
  ORCHESTRATOR_TASK_SUBJECT,
  orchestratorReplySubject,
  TaskEvent,
  taskEventSubject,
} from '@orchestrator/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metric } from './support/metrics.js';
import { waitFor, waitForAgents } from './support/orchestrator-process.js';
import { SecuredNats } from './support/secured-nats.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'permissions');
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const json = (body: unknown): Uint8Array => encoder.encode(JSON.stringify(body));

/** Messages seen on a subject by a connection allowed to read it (the orchestrator's user, watching). */
function watch(nc: NatsConnection, subject: string): Record<string, unknown>[] {
  const seen: Record<string, unknown>[] = [];
  nc.subscribe(subject, {
    callback: (_err, msg) => {
      seen.push(JSON.parse(decoder.decode(msg.data)) as Record<string, unknown>);
    },
  });
  return seen;
}

/**
 * A client with the gateway's credentials, under deploy/nats/permissions.conf, tries to make the
 * orchestrator speak for it: to fail a running sub-task with a refusal, to answer on the
 * orchestrator's own subjects or on lifecycle events, and to control child workflows. Each is
 * refused and counted; the workflows it aimed at complete.
 */
describe('no borrowed identity: the orchestrator speaks only for itself', () => {
  let nats: SecuredNats;
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    env: () => ({ NATS_URL: nats.url, NATS_USER: 'orchestrator', NATS_PASSWORD: nats.password('orchestrator'), NATS_INBOX_PREFIX: '_INBOX_orchestrator' }),
    before: async () => {
      nats = await SecuredNats.start();
    },
  });
  stack.onStop(() => nats?.stop());

  const releases: (() => void)[] = [];
  let drafting: Agent;
  let examination: Agent;
  let gateway: NatsConnection;
  let observer: NatsConnection;
  const connections: NatsConnection[] = [];
  /** The wire ids of the sub-tasks aimed at: a draft step, and the `workflow:` step running a child. */
  let draft = '';
  let inner = '';
  let replicaId = '';

  const count = (reason: string): Promise<number> => metric(stack.orchestrator.baseUrl, 'orchestrator_requests_refused_total', { reason });
  const statusOf = async (wireId: string): Promise<string | undefined> =>
    (await stack.db.query<{ status: string }>(`SELECT status FROM tasks WHERE id = $1`, [wireId.split(':')[0]]))[0]?.status;

  beforeAll(async () => {
    const login = async (user: string): Promise<NatsConnection> => {
      const nc = await nats.login(user);
      connections.push(nc);
      return nc;
    };
    drafting = new Agent({ name: 'drafting_agent', agentType: 'drafter', connection: await login('drafting_agent') }).handle(
      'e2e_draft',
      (payload) => new Promise((resolve) => releases.push(() => resolve({ text: `draft of ${String(payload['text'])}` }))),
    );
    examination = new Agent({ name: 'examination_agent', agentType: 'reviewer', connection: await login('examination_agent') }).handle('e2e_review', (payload) =>
      Promise.resolve({ text: `reviewed ${String(payload['text'])}` }),
    );
    await drafting.start();
    await examination.start();
    gateway = await login('gateway');
    observer = await login('orchestrator');
    await waitForAgents(stack.orchestrator.baseUrl, 2);
    replicaId = (await stack.get<{ replica_id: string }>('/status')).replica_id;

    gateway.publish(ORCHESTRATOR_TASK_SUBJECT, json({ task_id: 'victim-1', task_type: 'e2e_guarded', payload: { text: 'one' } }));
    gateway.publish(ORCHESTRATOR_TASK_SUBJECT, json({ task_id: 'victim-nested', task_type: 'e2e_guarded_nested', payload: { text: 'two' } }));
    const running = await waitFor('both drafts to be held, one inside a child workflow', async () => {
      const rows = await stack.db.query<{ task_id: string; step_key: string; id: string; attempts: number }>(
        `SELECT r.task_id, s.step_key, s.id, s.attempts FROM tasks s JOIN tasks r ON s.root_id = r.id
          WHERE r.task_id IN ('victim-1', 'victim-nested') AND s.status = 'RUNNING' AND s.step_key IN ('draft', 'inner')`,
      );
      return rows.length === 2 && releases.length === 2 ? rows : undefined;
    });
    const wire = (rootTaskId: string): string => {
      const row = running.find((r) => r.task_id === rootTaskId);
      return `${row?.id ?? ''}:${row?.attempts ?? 0}`;
    };
    draft = wire('victim-1');
    inner = wire('victim-nested');
  });

  afterAll(async () => {
    for (const release of releases.splice(0)) release();
    await Promise.all([drafting?.stop(), examination?.stop()]);
    await Promise.all(connections.map((nc) => nc.close()));
  });

  it("refuses a request naming a running sub-task's id; no refusal reaches the agent's or the orchestrator's response subject", async () => {
    const toAgent = watch(observer, agentResponseSubject('drafting_agent'));
    const toOrchestrator = watch(observer, agentResponseSubject('orchestrator_agent'));
    await observer.flush();
    const before = await count('internal_id');
    // Were it refused there, the refusal would read as drafting_agent's answer, or as the child workflow's.
    gateway.publish(ORCHESTRATOR_TASK_SUBJECT, json({ task_id: draft, task_type: 'no_such_type', requester_id: 'drafting_agent' }));
    gateway.publish(ORCHESTRATOR_TASK_SUBJECT, json({ task_id: inner, task_type: 'no_such_type', requester_id: 'orchestrator_agent' }));
    // After them, a refusal of the client's own id: it does go to the requester, and marks the end.
    gateway.publish(ORCHESTRATOR_TASK_SUBJECT, json({ task_id: 'sentinel', task_type: 'no_such_type', requester_id: 'drafting_agent' }));
    await gateway.flush();
    await waitFor('both requests to be refused', async () => ((await count('internal_id')) >= before + 2 ? true : undefined));
    await waitFor('the sentinel to be refused', () => (toAgent.length > 0 ? true : undefined));
    expect(toAgent).toEqual([expect.objectContaining({ task_id: 'sentinel', status: 'FAILED' })]);
    expect(toOrchestrator).toEqual([]);
    expect(await statusOf(draft)).toBe('RUNNING');
    expect(await statusOf(inner)).toBe('RUNNING');
  });

  it("neither carries out nor answers a request whose reply subject is the orchestrator's own, an agent's, or JetStream's API", async () => {
    const before = await count('reply_subject');
    const forgedReply = orchestratorReplySubject(replicaId, 'AAAAAAAAAAAAAAAAAAAAAA', draft);
    const attempts: [string, unknown, string][] = [
      [ORCHESTRATOR_CANCEL_SUBJECT, { task_id: draft }, forgedReply],
      // A legitimate id: were it carried out, victim-1 would be cancelled.
      [ORCHESTRATOR_CANCEL_SUBJECT, { task_id: 'victim-1' }, forgedReply],
      [ORCHESTRATOR_TASK_SUBJECT, { task_id: 'fresh-1', task_type: 'no_such_type' }, agentResponseSubject('drafting_agent')],
      [ORCHESTRATOR_TASK_SUBJECT, { task_id: 'fresh-2', task_type: 'no_such_type' }, '$JS.API.STREAM.PURGE.ANY'],
      [ORCHESTRATOR_RETRY_SUBJECT, { task_id: 'victim-1' }, 'agent.drafting_agent.cancel'],
      [ORCHESTRATOR_SIGNAL_SUBJECT, { task_id: 'victim-1', signal: 'go' }, agentResponseSubject('drafting_agent')],
    ];
    for (const [subject, body, reply] of attempts) gateway.publish(subject, json(body), { reply });
    await gateway.flush();
    await waitFor('every one to be refused', async () => ((await count('reply_subject')) >= before + attempts.length ? true : undefined));
    expect(await statusOf(draft)).toBe('RUNNING');
    const [root] = await stack.db.query<{ status: string }>(`SELECT status FROM tasks WHERE task_id = 'victim-1' AND parent_id IS NULL`);
    expect(root?.status).toBe('RUNNING');
  });

  it('does not answer on lifecycle events: a forged task_failed for a running task never appears', async () => {
    const failed = watch(observer, taskEventSubject(TaskEvent.Failed));
    await observer.flush();
    const before = await count('reply_subject');
    // A different request under victim-1's task_id would be refused, and the refusal sent to the reply subject.
    gateway.publish(ORCHESTRATOR_TASK_SUBJECT, json({ task_id: 'victim-1', task_type: 'e2e_guarded', payload: { text: 'other' } }), {
      reply: taskEventSubject(TaskEvent.Failed),
    });
    await gateway.flush();
    await waitFor('the request to be refused', async () => ((await count('reply_subject')) > before ? true : undefined));
    await observer.flush();
    expect(failed).toEqual([]);
  });

  it("refuses cancel, retry, rerun and signals of a child workflow by its id, over NATS and HTTP", async () => {
    const error = "task_id: ids of the form <uuid>:<attempt> are the orchestrator's own sub-tasks; use the task_id of a task you submitted";
    const before = await count('internal_id');
    for (const subject of [ORCHESTRATOR_CANCEL_SUBJECT, ORCHESTRATOR_RETRY_SUBJECT, ORCHESTRATOR_RERUN_SUBJECT]) {
      const reply = JSON.parse(decoder.decode((await gateway.request(subject, json({ task_id: inner }), { timeout: 10_000 })).data)) as Record<string, unknown>;
      expect(reply).toMatchObject({ task_id: '', status: 'FAILED', error });
    }
    for (const action of ['cancel', 'retry', 'rerun']) {
      const res = await fetch(`${stack.orchestrator.baseUrl}/tasks/${encodeURIComponent(inner)}/${action}`, { method: 'POST' });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ message: error });
    }
    const signalled = JSON.parse(decoder.decode((await gateway.request(ORCHESTRATOR_SIGNAL_SUBJECT, json({ task_id: inner, signal: 'go' }), { timeout: 10_000 })).data)) as Record<string, unknown>;
    expect(signalled).toMatchObject({ task_id: '', status: 'REFUSED', error });
    expect(await count('internal_id')).toBe(before + 7);
    const [child] = await stack.db.query<{ status: string }>(`SELECT status FROM tasks WHERE task_id = $1 AND parent_id IS NULL`, [inner]);
    expect(child?.status).toBe('RUNNING');
  });

  it('lets the workflows aimed at complete normally', async () => {
    for (const release of releases.splice(0)) release();
    const done = await waitFor('both workflows to complete', async () => {
      const rows = await stack.db.query<{ task_id: string; status: string; result: { output?: unknown } | null }>(
        `SELECT task_id, status, result FROM tasks WHERE task_id IN ('victim-1', 'victim-nested') AND parent_id IS NULL AND status <> 'RUNNING'`,
      );
      return rows.length === 2 ? rows : undefined;
    });
    expect(Object.fromEntries(done.map((row) => [row.task_id, [row.status, row.result?.output]]))).toEqual({
      'victim-1': ['COMPLETED', { text: 'reviewed draft of one' }],
      'victim-nested': ['COMPLETED', { text: 'reviewed reviewed draft of two' }],
    });
  });
});
