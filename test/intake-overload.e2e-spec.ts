import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { agentResponseSubject, agentTaskSubject, ORCHESTRATOR_ANSWERS_STREAM, ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { intakeStream } from './support/intake-stream.js';
import { waitFor } from './support/orchestrator-process.js';
import { pairAgents } from './support/pair-agents.js';
import { testEnv } from './support/test-env.js';
import { useTestStack, type TestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');

/** A planner that takes every question and answers none; `asked` counts the questions. */
async function mutePlanner(name: string): Promise<{ asked: () => number; close: () => Promise<void> }> {
  const nc = await connect({ servers: testEnv().natsUrl, name });
  let asked = 0;
  nc.subscribe(agentTaskSubject('e2e_mute_planner'), {
    callback: () => {
      asked += 1;
    },
  });
  await nc.flush();
  return { asked: () => asked, close: () => nc.close() };
}

describe('intake under a planner that never answers', () => {
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    // Core NATS intake, which sheds; durable intake paces instead (below).
    env: { DURABLE_INTAKE: 'off', PLANNER_AGENT: 'e2e_mute_planner', PLANNER_TIMEOUT_MS: '3000', PLANNER_RETRIES: '0', PLANNER_CONCURRENCY: '4', PLANNER_QUEUE_MAX: '20' },
    agents: pairAgents(),
    waitForAgents: 2,
  });

  const metrics = async (): Promise<string> => (await fetch(`${stack.orchestrator.baseUrl}/metrics`)).text();

  it('answers 1,000 requests for unknown task types at once, overloaded beyond its line, while known workflows keep completing', async () => {
    const mute = await mutePlanner('e2e-mute-planner');
    try {
      const unknown = Array.from({ length: 1_000 }, (_, i) =>
        stack.nats.request(ORCHESTRATOR_TASK_SUBJECT, { task_id: `unplanned-${i}`, task_type: `no_file_${i % 10}` }, 30_000),
      );
      // Known workflows do not wait behind them.
      const known = await Promise.all(
        Array.from({ length: 50 }, (_, i) => stack.submit({ task_id: `known-${i}`, task_type: 'e2e_pair', payload: { text: `k${i}` } }, 30_000)),
      );
      expect(known.map((answer) => answer['status'])).toEqual(known.map(() => 'COMPLETED'));
      const answers = await Promise.all(unknown);
      const overloaded = answers.filter((answer) => answer['status'] === 'FAILED' && answer['error'] === 'overloaded: submit it again').length;
      const unplanned = answers.filter((answer) => answer['status'] === 'FAILED' && String(answer['error']).includes('did not answer')).length;
      console.log(`overload: 1,000 requests for a mute planner: ${overloaded} overloaded at once, ${unplanned} waited for it (${mute.asked()} questions asked); 50 known workflows completed meanwhile`);
      // Everyone got an answer: at most PLANNER_CONCURRENCY + PLANNER_QUEUE_MAX waited for the planner, the rest were turned away.
      expect(overloaded + unplanned).toBe(1_000);
      expect(unplanned).toBeLessThanOrEqual(24 * 2);
      expect(mute.asked()).toBe(unplanned);
      const [{ rows }] = await stack.db.query<{ rows: number }>(`SELECT count(*)::int AS rows FROM tasks WHERE task_id LIKE 'unplanned-%'`);
      expect(rows).toBe(0);
      // Every request turned away is counted, by its line.
      expect(await metrics()).toContain(`orchestrator_requests_shed_total{line="planner"} ${overloaded}\n`);
    } finally {
      await mute.close();
    }
  });

  it('answers HTTP with 503 and Retry-After while its line is full', async () => {
    const mute = await mutePlanner('e2e-mute-planner-2');
    try {
      const waiting = Array.from({ length: 24 }, (_, i) => stack.nats.request(ORCHESTRATOR_TASK_SUBJECT, { task_id: `fill-${i}`, task_type: 'no_file_x' }, 30_000));
      await stack.nats.flush();
      const res = await fetch(`${stack.orchestrator.baseUrl}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ task_id: 'http-overloaded', task_type: 'no_file_y' }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({ code: 'OVERLOADED', message: 'overloaded: submit it again' });
      // While the planner is mute its line stays full: PLANNER_QUEUE_MAX waiting behind PLANNER_CONCURRENCY.
      const text = await metrics();
      expect(text).toContain('orchestrator_intake_waiting{line="planner"} 20\n');
      expect(text).toContain('orchestrator_intake_waiting{line="intake"} 0\n');
      await Promise.all(waiting);
    } finally {
      await mute.close();
    }
  });
});

describe('durable intake under a planner that never answers', () => {
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    env: { PLANNER_AGENT: 'e2e_mute_planner', PLANNER_TIMEOUT_MS: '1000', PLANNER_RETRIES: '0', PLANNER_CONCURRENCY: '2', PLANNER_QUEUE_MAX: '2', INTAKE_CONCURRENCY: '8' },
    agents: pairAgents(),
    waitForAgents: 2,
  });

  it('takes requests from the stream at the pace it can: it holds at most INTAKE_CONCURRENCY, and sheds none', async () => {
    const mute = await mutePlanner('e2e-mute-planner-3');
    const answers = stack.nats.collect(agentResponseSubject('e2e_paced'));
    let mostHeld = 0;
    const watching = setInterval(() => {
      void intakeStream().then((state) => (mostHeld = Math.max(mostHeld, state?.consumer.num_ack_pending ?? 0)), () => undefined);
    }, 100);
    try {
      // 40 for the planner, then 10 known workflows behind them; in core intake most of the 40 would be refused at once.
      for (let i = 0; i < 40; i++) stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id: `paced-${i}`, task_type: `no_file_${i % 5}`, requester_id: 'e2e_paced' });
      for (let i = 0; i < 10; i++) stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id: `paced-known-${i}`, task_type: 'e2e_pair', payload: { text: `p${i}` }, requester_id: 'e2e_paced' });
      const all = await answers.waitForCount(50, 120_000);
      const unplanned = all.filter((answer) => answer['status'] === 'FAILED' && String(answer['error']).includes('did not answer')).length;
      const completed = all.filter((answer) => String(answer['task_id']).startsWith('paced-known-') && answer['status'] === 'COMPLETED').length;
      console.log(`durable intake: 40 requests for a mute planner and 10 known ones: ${unplanned} waited for the planner, ${completed} completed, at most ${mostHeld} held at once, none refused`);
      expect({ unplanned, completed, asked: mute.asked() }).toEqual({ unplanned: 40, completed: 10, asked: 40 });
      expect(mostHeld).toBeGreaterThan(0);
      expect(mostHeld).toBeLessThanOrEqual(8);
      expect(await (await fetch(`${stack.orchestrator.baseUrl}/metrics`)).text()).not.toMatch(/orchestrator_requests_shed_total\{line="\w+"\} [1-9]/);
    } finally {
      clearInterval(watching);
      answers.stop();
      await mute.close();
    }
  });
});

/** 40 workflows through an inbox of one answer at a time and none waiting; what became of the answers it could not hold. */
async function throughFullInbox(stack: TestStack, taskType: string): Promise<{ dropped: number; kept: number; retried: number }> {
  const answers = await Promise.all(
    Array.from({ length: 40 }, (_, i) => stack.submit({ task_id: `inbox-${i}`, task_type: taskType, payload: { text: `i${i}` } }, 150_000)),
  );
  expect(answers.map((answer) => [answer['status'], (answer['result'] as { output: unknown }).output])).toEqual(
    answers.map((_, i) => ['COMPLETED', { text: `[I${i}]` }]),
  );
  const metrics = await (await fetch(`${stack.orchestrator.baseUrl}/metrics`)).text();
  const counter = (pattern: RegExp): number => [...metrics.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0);
  return {
    dropped: counter(/orchestrator_responses_refused_total\{reason="inbox_full"\} (\d+)/g),
    kept: counter(/orchestrator_answers_kept_total (\d+)/g),
    retried: counter(/orchestrator_step_retries_total\{agent="e2e_(?:first|second)"\} (\d+)/g),
  };
}

describe('an answer inbox that is full, over core NATS', () => {
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    env: { DURABLE_INTAKE: 'off', ANSWER_INBOX_CONCURRENCY: '1', ANSWER_INBOX_MAX: '0' },
    agents: pairAgents(),
    waitForAgents: 2,
  });

  it('drops and counts the answers it cannot hold, and their attempts are retried until every workflow completes', async () => {
    const { dropped, retried } = await throughFullInbox(stack, 'e2e_pair_quick');
    console.log(`answer inbox of one: ${dropped} answers dropped, ${retried} attempts retried, 40 workflows completed`);
    expect(dropped).toBeGreaterThan(0);
    expect(retried).toBeGreaterThanOrEqual(1);
  }, 180_000);
});

describe('an answer inbox that is full, under durable intake', () => {
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    env: { ANSWER_INBOX_CONCURRENCY: '1', ANSWER_INBOX_MAX: '0' },
    agents: pairAgents(),
    waitForAgents: 2,
  });

  it('keeps the answers it cannot hold in JetStream and applies them as it has room: none is dropped', async () => {
    const { dropped, kept, retried } = await throughFullInbox(stack, 'e2e_durable');
    console.log(`answer inbox of one under durable intake: ${kept} answers kept until it had room, ${dropped} dropped, ${retried} attempts retried, 40 workflows completed`);
    expect(kept).toBeGreaterThan(0);
    expect(dropped).toBe(0);
    // The steps' deadlines are long: an attempt is retried only if its answer was lost.
    expect(retried).toBe(0);
    // Each kept answer acknowledged once applied.
    const acked = await waitFor('the kept answers to be acknowledged', async () => ((await intakeStream(ORCHESTRATOR_ANSWERS_STREAM))?.stream.state.messages === 0 ? true : undefined), 10_000);
    expect(acked).toBe(true);
  }, 180_000);
});
