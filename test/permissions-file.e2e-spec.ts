import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NatsConnection } from '@nats-io/transport-node';
import { OrchestratorClient } from '@orchestrator/client';
import {
  AGENT_HEARTBEAT_SUBJECT,
  agentAnnouncementSubject,
  agentResponseSubject,
  agentTaskSubject,
  ORCHESTRATOR_CANCEL_SUBJECT,
  ORCHESTRATOR_TASK_SUBJECT,
  TaskEvent,
  taskEventSubject,
} from '@orchestrator/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metric } from './support/metrics.js';
import { startDemoAgents, waitFor, type AppProcess } from './support/orchestrator-process.js';
import { DEMO_AGENTS, SecuredNats, violations } from './support/secured-nats.js';
import { useTestStack } from './support/test-stack.js';

const ROOT = new URL('..', import.meta.url).pathname;
const PYTHON_DIR = join(ROOT, 'test', 'fixtures', 'permissions', 'python');
const encoder = new TextEncoder();
const json = (body: unknown): Uint8Array => encoder.encode(JSON.stringify(body));

/** The Python SDK's virtual environment (scripts/python-sdk-venv.sh; PYTHON_SDK_VENV). */
function python(): string {
  const venv = process.env['PYTHON_SDK_VENV'];
  if (!venv) throw new Error('PYTHON_SDK_VENV is not set: run `bash scripts/python-sdk-venv.sh` and set it to the directory it prints (npm test does)');
  return join(venv, 'bin', 'python');
}

/** Runs a command to its end; its exit code and what it printed. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/**
 * deploy/nats/permissions.conf as operators run it: the orchestrator, the demo agents and a Python
 * examination_agent each logged in as itself, clients (the Python SDK, the client library, the
 * command line over HTTP) as the gateway with its own inboxes. Everything works; what the users
 * try beyond their rights is refused by the server or by the orchestrator, and counted.
 */
describe('the shipped permissions file, with the demo agents, the CLI and the Python SDK', () => {
  let nats: SecuredNats;
  const stack = useTestStack({
    env: () => ({
      NATS_URL: nats.url,
      NATS_USER: 'orchestrator',
      NATS_PASSWORD: nats.password('orchestrator'),
      NATS_INBOX_PREFIX: '_INBOX_orchestrator',
      AGENT_SHARED_ANNOUNCEMENTS: 'off',
      AGENT_MAX_CONCURRENCY: '64',
      AGENT_INSTANCES_PER_NAME_MAX: '8',
      AGENT_HEARTBEAT_TTL_MS: '3000',
    }),
    before: async () => {
      nats = await SecuredNats.start();
    },
  });
  stack.onStop(() => nats?.stop());

  let demo: AppProcess;
  let examination: ChildProcess | undefined;
  const connections: NatsConnection[] = [];
  const login = async (user: string): Promise<NatsConnection> => {
    const nc = await nats.login(user);
    connections.push(nc);
    return nc;
  };
  const pythonEnv = (): NodeJS.ProcessEnv => ({ ...process.env, ...nats.passwords, NATS_URL: nats.url, HOLD_SECONDS: '6' });
  const startPythonAgent = (): ChildProcess => spawn(python(), [join(PYTHON_DIR, 'examination_agent.py')], { cwd: ROOT, env: pythonEnv(), stdio: 'ignore' });
  const listed = async (): Promise<{ name: string; capacity: number | null; instances: { instance_id: string }[] }[]> =>
    (await stack.get<{ items: { name: string; capacity: number | null; instances: { instance_id: string }[] }[] }>('/agents')).items;
  const hasAgents = async (count: number): Promise<true | undefined> => ((await listed()).length === count ? true : undefined);
  const count = (name: string, reason: string): Promise<number> => metric(stack.orchestrator.baseUrl, name, { reason });

  beforeAll(async () => {
    const nodeAgents = DEMO_AGENTS.filter((name) => name !== 'examination_agent');
    demo = startDemoAgents(mkdtempSync(join(tmpdir(), 'published-')), [...nodeAgents], { ...nats.passwords, NATS_URL: nats.url });
    stack.onStop(() => demo.stop());
    examination = startPythonAgent();
    await waitFor('the four Node demo agents and the Python examination_agent', () => hasAgents(5), 60_000);
  });

  afterAll(async () => {
    examination?.kill('SIGTERM');
    await Promise.all(connections.map((nc) => nc.close()));
  });

  it('runs a blog post for the Python client, the command line and the client library, each agent doing its step as itself', async () => {
    const submitted = await run(python(), [join(PYTHON_DIR, 'submit.py'), 'py-perm-1', 'Permissions that work'], pythonEnv());
    expect(submitted.code, submitted.output).toBe(0);
    const response = JSON.parse(submitted.output.trim().split('\n').pop() ?? '{}') as { status: string; result: { steps: Record<string, Record<string, unknown>> } };
    expect(response.status).toBe('COMPLETED');
    expect(response.result.steps['review']).toMatchObject({ reviewed_by: 'python' });

    const cli = await run(
      process.execPath,
      ['apps/cli/bin/orchestrator.js', 'submit', 'create_blog_post', '--payload', '{"topic":"From the command line"}', '--task-id', 'cli-perm-1', '--watch', '--url', stack.orchestrator.baseUrl],
      { ...process.env, NO_COLOR: '1' },
    );
    expect(cli.code, cli.output).toBe(0);

    // The client library waits on the lifecycle events, which the gateway may read (six subjects, not a wildcard).
    const gateway = await login('gateway');
    const refused = violations(gateway);
    const client = await OrchestratorClient.connect({ connection: gateway });
    const final = await client.run({ task_id: 'lib-perm-1', task_type: 'create_blog_post', payload: { topic: 'From the library' } });
    expect(final).toMatchObject({ task_id: 'lib-perm-1', status: 'COMPLETED' });
    expect(refused).toEqual([]);
  });

  it('lets a client read only its own answers and the lifecycle events', async () => {
    const gateway = await login('gateway');
    const refused = violations(gateway);
    for (const subject of ['_INBOX.>', '_INBOX_orchestrator.>', '_INBOX_examination_agent.>', 'platform.events.>', agentTaskSubject('llm_agent')]) gateway.subscribe(subject);
    gateway.subscribe('_INBOX_gateway.>');
    for (const event of Object.values(TaskEvent)) gateway.subscribe(taskEventSubject(event));
    await gateway.flush();
    await waitFor('five subscriptions to be refused', () => (refused.length >= 5 ? true : undefined), 5_000);
    await gateway.flush();
    expect(refused).toHaveLength(5);
    for (const subject of ['_INBOX.>', '_INBOX_orchestrator.>', '_INBOX_examination_agent.>', 'platform.events.>']) {
      expect(refused.join('\n')).toContain(`Permissions Violation for Subscription to "${subject}"`);
    }
  });

  it('refuses every attack on a running workflow, which completes', async () => {
    const gateway = await login('gateway');
    const client = await OrchestratorClient.connect({ connection: gateway });
    const held = await client.submit({ task_id: 'held-perm-1', task_type: 'create_blog_post', payload: { topic: 'Hold this post' } });
    expect(held.status).toBe('RUNNING');
    const [review] = await waitFor('the review to be held by the Python agent', async () => {
      const rows = await stack.db.query<{ id: string; attempts: number }>(
        `SELECT s.id, s.attempts FROM tasks s JOIN tasks r ON s.root_id = r.id WHERE r.task_id = 'held-perm-1' AND s.step_key = 'review' AND s.status = 'RUNNING'`,
      );
      return rows.length === 1 ? rows : undefined;
    });
    const wire = `${review?.id ?? ''}:${review?.attempts ?? 0}`;
    const forged = json({ task_id: wire, status: 'FAILED', success: false, result: null, error: 'forged' });
    const before = {
      internal: await count('orchestrator_requests_refused_total', 'internal_id'),
      reply: await count('orchestrator_requests_refused_total', 'reply_subject'),
      sender: await count('orchestrator_responses_refused_total', 'sender'),
      subject: await count('orchestrator_announcements_refused_total', 'subject'),
      capacity: await count('orchestrator_announcements_refused_total', 'capacity'),
    };

    // The gateway: lifecycle events and answers of its own making, refused by the server.
    const gatewayRefused = violations(gateway);
    gateway.publish(taskEventSubject(TaskEvent.Failed), json({ task_id: 'held-perm-1', status: 'FAILED', error: 'forged' }));
    gateway.publish(agentResponseSubject('examination_agent'), forged);
    await gateway.flush();
    await waitFor('the server to refuse the gateway twice', () => (gatewayRefused.length >= 2 ? true : undefined), 5_000);
    expect(gatewayRefused.join('\n')).toContain(`Permissions Violation for Publish to "${taskEventSubject(TaskEvent.Failed)}"`);
    expect(gatewayRefused.join('\n')).toContain(`Permissions Violation for Publish to "${agentResponseSubject('examination_agent')}"`);
    // Then through the orchestrator: its refusals aimed at the review, and answers on subjects the orchestrator consumes or on events.
    gateway.publish(ORCHESTRATOR_TASK_SUBJECT, json({ task_id: wire, task_type: 'x', requester_id: 'examination_agent' }));
    gateway.publish(ORCHESTRATOR_CANCEL_SUBJECT, json({ task_id: 'held-perm-1' }), { reply: agentResponseSubject('examination_agent') });
    gateway.publish(ORCHESTRATOR_TASK_SUBJECT, json({ task_id: 'held-perm-1', task_type: 'create_blog_post', payload: { topic: 'other' } }), {
      reply: taskEventSubject(TaskEvent.Failed),
    });
    await gateway.flush();

    // An agent (drafting_agent's credentials): another's sub-tasks and answers, another's name, and more than its share.
    const rogue = await login('drafting_agent');
    const refused = violations(rogue);
    rogue.subscribe(agentTaskSubject('examination_agent'));
    rogue.publish(agentResponseSubject('examination_agent'), forged);
    rogue.publish(agentResponseSubject('drafting_agent'), forged);
    const announcement = (name: string, instance: string, maxConcurrency = 1): Uint8Array =>
      json({ name, instance_id: instance, agent_type: 'rogue', capabilities: ['review_content'], load: { in_flight: 0, max_concurrency: maxConcurrency }, ts: Date.now() / 1000 });
    rogue.publish(agentAnnouncementSubject('examination_agent', 'heartbeat'), announcement('examination_agent', 'rogue-1'));
    rogue.publish(AGENT_HEARTBEAT_SUBJECT, announcement('examination_agent', 'rogue-2'));
    rogue.publish(agentAnnouncementSubject('drafting_agent', 'heartbeat'), announcement('examination_agent', 'rogue-3'));
    rogue.publish(agentAnnouncementSubject('drafting_agent', 'heartbeat'), announcement('drafting_agent', 'rogue-4', 1e15));
    await rogue.flush();
    await waitFor('the server to refuse four operations', () => (refused.length >= 4 ? true : undefined), 5_000);
    for (const line of [
      `Subscription to "${agentTaskSubject('examination_agent')}"`,
      `Publish to "${agentResponseSubject('examination_agent')}"`,
      `Publish to "${agentAnnouncementSubject('examination_agent', 'heartbeat')}"`,
      `Publish to "${AGENT_HEARTBEAT_SUBJECT}"`,
    ]) {
      expect(refused.join('\n')).toContain(`Permissions Violation for ${line}`);
    }

    await waitFor('the orchestrator to refuse the rest, each counted', async () => {
      const now = {
        internal: await count('orchestrator_requests_refused_total', 'internal_id'),
        reply: await count('orchestrator_requests_refused_total', 'reply_subject'),
        sender: await count('orchestrator_responses_refused_total', 'sender'),
        subject: await count('orchestrator_announcements_refused_total', 'subject'),
        capacity: await count('orchestrator_announcements_refused_total', 'capacity'),
      };
      return now.internal === before.internal + 1 &&
        now.reply === before.reply + 2 &&
        now.sender === before.sender + 1 &&
        now.subject === before.subject + 1 &&
        now.capacity === before.capacity + 1
        ? true
        : undefined;
    });
    const drafting = await waitFor('the rogue instance in the registry', async () => (await listed()).find((agent) => agent.instances.some((i) => i.instance_id === 'rogue-4')));
    expect(drafting.name).toBe('drafting_agent');
    expect(drafting.capacity).toBeLessThanOrEqual(64 * 8);
    expect((await listed()).find((agent) => agent.name === 'examination_agent')?.instances.map((i) => i.instance_id)).not.toContain('rogue-3');

    // The workflow aimed at was neither failed nor cancelled: it completes with the Python agent's review.
    const final = await client.wait('held-perm-1', { timeoutMs: 60_000 });
    expect(final).toMatchObject({ status: 'COMPLETED', result: { steps: { review: { reviewed_by: 'python' } } } });
  });

  it("lets a restarting agent in while another floods the registry with instances of its own, and the workflows run", async () => {
    const rogue = await login('drafting_agent');
    const flood = setInterval(() => {
      for (let i = 0; i < 20; i++) {
        rogue.publish(
          agentAnnouncementSubject('drafting_agent', 'heartbeat'),
          json({ name: 'drafting_agent', instance_id: `flood-${Date.now()}-${i}`, agent_type: 'rogue', capabilities: ['export_document'], ts: Date.now() / 1000 }),
        );
      }
    }, 25);
    try {
      const instancesOf = async (name: string): Promise<string[]> => (await listed()).find((agent) => agent.name === name)?.instances.map((i) => i.instance_id) ?? [];
      const old = await instancesOf('examination_agent');
      examination?.kill('SIGTERM');
      examination = startPythonAgent();
      await waitFor('the restarted Python agent to be listed', async () => ((await instancesOf('examination_agent')).some((id) => !old.includes(id)) ? true : undefined), 30_000);
      expect((await listed()).find((agent) => agent.name === 'drafting_agent')?.instances.length).toBeLessThanOrEqual(8);
    } finally {
      clearInterval(flood);
    }
    const submitted = await run(python(), [join(PYTHON_DIR, 'submit.py'), 'py-perm-2', 'After the flood'], pythonEnv());
    expect(submitted.code, submitted.output).toBe(0);
    expect(JSON.parse(submitted.output.trim().split('\n').pop() ?? '{}')).toMatchObject({ status: 'COMPLETED' });
  });
});
