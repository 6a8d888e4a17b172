import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import { agentResponseSubject, agentTaskSubject, ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { intakeStream } from './support/intake-stream.js';
import type { Collector } from './support/nats-client.js';
import { AppExitedError, freePort, waitFor } from './support/orchestrator-process.js';
import { pairAgents } from './support/pair-agents.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');
const REQUESTER = 'e2e_durable';

type Json = Record<string, unknown>;

/** How many times each value of `key` came in `messages`. */
function countBy(messages: readonly Json[], key: (message: Json) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of messages) counts.set(key(message), (counts.get(key(message)) ?? 0) + 1);
  return counts;
}

const textOf = (request: Json): string => String((request['payload'] as Json)['text']);

/** Waits until the final responses of every task in `taskIds` came, then a moment more for any second one. */
async function finalsOf(finals: Collector, taskIds: readonly string[], timeoutMs: number): Promise<Map<string, Json[]>> {
  const wanted = new Set(taskIds);
  await waitFor(`final responses for ${wanted.size} tasks`, () => (new Set(finals.messages.map((m) => String(m['task_id'])).filter((id) => wanted.has(id))).size === wanted.size ? true : undefined), timeoutMs, 200);
  await sleep(2_000);
  const byTask = new Map<string, Json[]>();
  for (const message of finals.messages) {
    const taskId = String(message['task_id']);
    if (wanted.has(taskId)) byTask.set(taskId, [...(byTask.get(taskId) ?? []), message]);
  }
  return byTask;
}

describe('durable intake: requests kept by JetStream until a replica has committed them', () => {
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    replicas: 0,
    env: { INTAKE_ACK_WAIT_MS: '3000' },
    agents: pairAgents({ maxConcurrency: 64 }),
  });

  it('runs 500 requests published while every replica was down once each, when two replicas start', async () => {
    // A replica ran once (and set the stream up), and is gone.
    await (await stack.startOrchestrator()).stop();
    const finals = stack.nats.collect(agentResponseSubject(REQUESTER));
    const replies = stack.nats.collect('e2e.durable.replies.>');
    const firstSteps = stack.nats.collect(agentTaskSubject('e2e_first'));
    const secondSteps = stack.nats.collect(agentTaskSubject('e2e_second'));
    const taskIds = Array.from({ length: 500 }, (_, i) => `down-${i}`);
    for (const [i, taskId] of taskIds.entries()) {
      const request = JSON.stringify({ task_id: taskId, task_type: 'e2e_durable', payload: { text: `d${i}` }, requester_id: REQUESTER });
      // One in ten as a request, with a reply subject; the rest published plainly.
      if (i % 10 === 0) stack.nats.nc.publish(ORCHESTRATOR_TASK_SUBJECT, request, { reply: `e2e.durable.replies.${taskId}` });
      else stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, request);
    }
    await stack.nats.flush();
    const kept = await waitFor('the stream to keep all 500', async () => ((await intakeStream())?.stream.state.messages === 500 ? true : undefined));
    expect(kept).toBe(true);

    const started = Date.now();
    await stack.restart({ replica: 0 });
    await stack.startOrchestrator();
    const byTask = await finalsOf(finals, taskIds, 180_000);
    const seconds = (Date.now() - started) / 1000;

    const taken = await Promise.all(
      stack.orchestrators.map(async (replica) => {
        const metrics = await (await fetch(`${replica.baseUrl}/metrics`)).text();
        return Number(/orchestrator_workflows_started_total\{task_type="e2e_durable"\} (\d+)/.exec(metrics)?.[1] ?? 0);
      }),
    );
    console.log(`durable intake: 500 requests kept while no replica ran, all completed ${seconds.toFixed(1)} s after two replicas started (taken ${taken.join(' + ')})`);
    expect(taken.reduce((a, b) => a + b, 0)).toBe(500);
    for (const [i, taskId] of taskIds.entries()) {
      const responses = byTask.get(taskId) ?? [];
      expect(responses).toHaveLength(1);
      expect(responses[0]).toMatchObject({ status: 'COMPLETED', result: { output: { text: `[D${i}]` } } });
    }
    // Each step of each workflow reached its agent once.
    const firsts = countBy(firstSteps.messages, textOf);
    const seconds2 = countBy(secondSteps.messages, textOf);
    expect(firsts.size).toBe(500);
    expect([...firsts.values()].every((n) => n === 1)).toBe(true);
    expect(seconds2.size).toBe(500);
    expect([...seconds2.values()].every((n) => n === 1)).toBe(true);
    const [{ roots }] = await stack.db.query<{ roots: number }>(`SELECT count(*)::int AS roots FROM tasks WHERE parent_id IS NULL AND task_id LIKE 'down-%'`);
    expect(roots).toBe(500);
    // Every request acknowledged, and no reply subject was ever answered by the stream (a PubAck).
    expect((await intakeStream())?.stream.state.messages).toBe(0);
    expect(replies.messages.filter((reply) => 'stream' in reply || 'seq' in reply)).toEqual([]);
    for (const stop of [finals, replies, firstSteps, secondSteps]) stop.stop();
  }, 300_000);

  it("answers a plain request with the orchestrator's TaskResponse, not the stream's PubAck", async () => {
    const response = await stack.submit({ task_id: 'plain-request', task_type: 'e2e_durable', payload: { text: 'asked' } });
    expect(response).toMatchObject({ task_id: 'plain-request', status: 'COMPLETED', result: { output: { text: '[ASKED]' } } });
    expect(response).not.toHaveProperty('stream');
  });

  it('answers bad input FAILED, naming the field, and acknowledges it rather than delivering it again', async () => {
    const requested = await stack.submit({ task_id: 'bad-durable', task_type: 'Not A Type' });
    expect(requested).toMatchObject({ task_id: 'bad-durable', status: 'FAILED' });
    expect(String(requested['error'])).toMatch(/^task_type: must match/);
    const failures = stack.nats.collect(agentResponseSubject(REQUESTER));
    stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id: 'bad-published', task_type: 'x', payload: 'not an object', requester_id: REQUESTER });
    expect((await failures.waitForCount(1))[0]).toMatchObject({ task_id: 'bad-published', status: 'FAILED', error: 'payload: must be a JSON object' });
    failures.stop();
    // Acknowledged (the stream keeps each message until then), and not stored as a task.
    const acked = await waitFor('the bad requests to be acknowledged', async () => {
      const state = await intakeStream();
      return state?.stream.state.messages === 0 && state.consumer.num_ack_pending === 0 ? true : undefined;
    }, 10_000);
    expect(acked).toBe(true);
    const [{ rows }] = await stack.db.query<{ rows: number }>(`SELECT count(*)::int AS rows FROM tasks WHERE task_id LIKE 'bad-%'`);
    expect(rows).toBe(0);
  });

  it('loses nothing when a replica is SIGKILLed while it holds requests: another takes them, and each runs once', async () => {
    const finals = stack.nats.collect(agentResponseSubject(REQUESTER));
    const taskIds = Array.from({ length: 300 }, (_, i) => `kill-${i}`);
    for (const [i, taskId] of taskIds.entries()) {
      // Short step deadlines: a sub-task the killed replica had not yet handed to the server is sent again soon.
      stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id: taskId, task_type: 'e2e_resilient', payload: { text: `k${i}` }, requester_id: REQUESTER });
    }
    await stack.nats.flush();
    await waitFor('intake to be under way', async () => {
      const [{ roots }] = await stack.db.query<{ roots: number }>(`SELECT count(*)::int AS roots FROM tasks WHERE parent_id IS NULL AND task_id LIKE 'kill-%'`);
      return roots >= 30 ? true : undefined;
    }, 60_000, 20);
    await stack.orchestrators[0]?.kill();
    const byTask = await finalsOf(finals, taskIds, 180_000);
    const metrics = await (await fetch(`${stack.orchestrators[1]?.baseUrl ?? ''}/metrics`)).text();
    const redelivered = Number(/orchestrator_intake_redelivered_total (\d+)/.exec(metrics)?.[1]);
    console.log(`durable intake: a replica SIGKILLed during intake of 300 requests; the other took ${redelivered} it held; all 300 completed`);
    // It died holding requests, and they were taken again.
    expect(redelivered).toBeGreaterThan(0);
    for (const taskId of taskIds) {
      const responses = byTask.get(taskId) ?? [];
      expect(responses[0]).toMatchObject({ task_id: taskId, status: 'COMPLETED' });
      // A copy can only be the same final response sent again by the sweeper (README, failure handling).
      for (const copy of responses) expect(copy).toEqual(responses[0]);
    }
    const [{ roots, steps }] = await stack.db.query<{ roots: number; steps: number }>(
      `SELECT count(DISTINCT r.id)::int AS roots, count(s.id)::int AS steps
         FROM tasks r LEFT JOIN tasks s ON s.root_id = r.id AND s.parent_id IS NOT NULL
        WHERE r.parent_id IS NULL AND r.task_id LIKE 'kill-%'`,
    );
    expect({ roots, steps }).toEqual({ roots: 300, steps: 600 });
    expect((await intakeStream())?.stream.state.messages).toBe(0);
    finals.stop();
  }, 300_000);
});

describe('DURABLE_INTAKE=off: core NATS alone, as before', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, env: { DURABLE_INTAKE: 'off' }, agents: pairAgents() });

  it('keeps no stream, answers requests over core NATS, and loses what is published while no replica runs', async () => {
    expect(await stack.submit({ task_id: 'off-asked', task_type: 'e2e_durable', payload: { text: 'core' } })).toMatchObject({
      status: 'COMPLETED',
      result: { output: { text: '[CORE]' } },
    });
    expect(await stack.get<{ details: Json }>('/health/ready')).toMatchObject({ details: { intake: { status: 'up', mode: 'core' } } });
    expect(await intakeStream()).toBeUndefined();

    const finals = stack.nats.collect(agentResponseSubject(REQUESTER));
    await stack.orchestrator.stop();
    stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id: 'off-lost', task_type: 'e2e_durable', payload: { text: 'lost' }, requester_id: REQUESTER });
    await stack.nats.flush();
    await stack.restart();
    // One published after the restart completes; the one published before it was never kept.
    stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id: 'off-after', task_type: 'e2e_durable', payload: { text: 'after' }, requester_id: REQUESTER });
    const [after] = await finals.waitForCount(1);
    expect(after).toMatchObject({ task_id: 'off-after', status: 'COMPLETED' });
    const [{ rows }] = await stack.db.query<{ rows: number }>(`SELECT count(*)::int AS rows FROM tasks WHERE task_id = 'off-lost'`);
    expect(rows).toBe(0);
    finals.stop();
  });
});

describe('DURABLE_INTAKE with a NATS server that offers no JetStream', () => {
  let natsServer: ChildProcess | undefined;
  let natsUrl = '';
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    replicas: 0,
    env: () => ({ NATS_URL: natsUrl }),
    before: async () => {
      const port = await freePort();
      natsUrl = `nats://127.0.0.1:${port}`;
      natsServer = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
      await waitFor('the NATS server without JetStream', async () => {
        await (await connect({ servers: natsUrl })).close();
        return true;
      });
    },
  });
  stack.onStop(() => natsServer?.kill());

  it('auto falls back to core NATS', async () => {
    await stack.startOrchestrator();
    expect(await stack.get<{ details: Json }>('/health/ready')).toMatchObject({ details: { intake: { status: 'up', mode: 'core' } } });
    const nc = await connect({ servers: natsUrl });
    try {
      const answer = await nc.request(ORCHESTRATOR_TASK_SUBJECT, JSON.stringify({ task_id: 'no-js', task_type: 'e2e_durable', payload: {} }), { timeout: 30_000 });
      const refused = answer.json<Json>();
      expect(refused).toMatchObject({ task_id: 'no-js', status: 'FAILED' });
      expect(String(refused['error'])).toContain('payload.text');
      // Taken and run: no agent listens on this server, so it fails, and says why.
      const ran = await nc.request(ORCHESTRATOR_TASK_SUBJECT, JSON.stringify({ task_id: 'no-js-2', task_type: 'e2e_durable', payload: { text: 'x' } }), { timeout: 30_000 });
      const failed = ran.json<Json>();
      expect(failed).toMatchObject({ task_id: 'no-js-2', status: 'FAILED' });
      expect(String(failed['error'])).toContain('no responders');
    } finally {
      await nc.close();
    }
  });

  it('on refuses to start, naming the setting', async () => {
    const refused = await stack.startOrchestrator({ DURABLE_INTAKE: 'on' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppExitedError);
    expect(await (refused as AppExitedError).app.output()).toContain('DURABLE_INTAKE=on: the NATS server offers no JetStream');
  });
});
