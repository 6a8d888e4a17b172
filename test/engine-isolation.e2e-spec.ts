import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { Agent } from '@orchestrator/agent-sdk';
import { agentCancelSubject, agentTaskSubject, ORCHESTRATOR_WORKFLOW_CANCEL_SUBJECT, ORCHESTRATOR_WORKFLOW_SUBJECT } from '@orchestrator/contracts';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'engine');
const natsUrl = (): string => testEnv().natsUrl;

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { deeper: value };
  return value;
}

/** Answers that the platform cannot store, by the request's `kind`, on a first attempt only. */
const POISON: Record<string, unknown> = {
  nul: { text: 'before\u0000after' },
  surrogate: { text: 'half of a pair: \ud83d' },
  deep: nested(100),
};

/** Agents of these tests, each with its own behaviour. */
const poisoner = new Agent({ name: 'e2e_poisoner', agentType: 'test', natsUrl: natsUrl(), maxConcurrency: 500 }).handle('e2e_answer', (payload, ctx) => {
  const kind = String(payload['kind']);
  return Promise.resolve(ctx.attempt === 1 && kind in POISON ? (POISON[kind] as Record<string, unknown>) : { kind, ok: true });
});

const sizer = new Agent({ name: 'e2e_sizer', agentType: 'test', natsUrl: natsUrl(), maxConcurrency: 100 }).handle('e2e_blob', (payload) =>
  Promise.resolve({ blob: 'x'.repeat(Number(payload['size'])) }),
);

const busyHeld: (() => void)[] = [];
const busy = new Agent({ name: 'e2e_busy', agentType: 'test', natsUrl: natsUrl(), maxConcurrency: 1, heartbeatIntervalMs: 500 }).handle(
  'e2e_hold',
  () => new Promise((resolve) => busyHeld.push(() => resolve({ held: true }))),
);

const idle = new Agent({ name: 'e2e_idle', agentType: 'test', natsUrl: natsUrl(), maxConcurrency: 10 }).handle('e2e_flaky_once', (_payload, ctx) =>
  ctx.attempt === 1 ? Promise.reject(new Error('first attempt fails')) : Promise.resolve({ attempt: ctx.attempt }),
);

/** Sleeps until told to stop: what an agent does with work it never finishes. */
function sleepUntilStopped(signal: AbortSignal): Promise<Record<string, unknown>> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }));
}

let childWorkflows = 0;
/** Never answers a first attempt; answers the second. For child workflows (each a first attempt of its own step): sleeps in the first only. */
const sleepy = new Agent({ name: 'e2e_sleepy', agentType: 'test', natsUrl: natsUrl(), maxConcurrency: 10 })
  .handle('e2e_nap', (_payload, ctx) => (ctx.attempt === 1 ? sleepUntilStopped(ctx.signal) : Promise.resolve({ woke: true })))
  .handle('e2e_nap_child', (_payload, ctx) => (++childWorkflows === 1 ? sleepUntilStopped(ctx.signal) : Promise.resolve({ woke: true })));

describe('one bad message harms nothing', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, agents: [poisoner, sizer, busy, idle, sleepy], waitForAgents: 5 });

  it('refuses a poisoned answer among 100 where it arrives: only its attempt fails and is retried, the others complete at once', async () => {
    const kinds = Array.from({ length: 100 }, (_, i) => (i === 17 ? 'nul' : i === 42 ? 'surrogate' : i === 77 ? 'deep' : 'good'));
    const started = Date.now();
    const answers = await Promise.all(kinds.map((kind, i) => stack.submit({ task_id: `poison-${i}`, task_type: 'e2e_poison', payload: { kind } }, 60_000)));
    const seconds = (Date.now() - started) / 1000;
    console.log(`poison: 100 workflows, 3 poisoned first answers, all answered in ${seconds.toFixed(2)} s (step timeout 30 s)`);
    expect(answers.map((answer) => answer['status'])).toEqual(kinds.map(() => 'COMPLETED'));
    // Nobody waited for a deadline: no attempt of theirs timed out.
    const metrics = await (await fetch(`${stack.orchestrator.baseUrl}/metrics`)).text();
    expect(metrics).not.toMatch(/orchestrator_step_timeouts_total\{agent="e2e_poisoner"\} [1-9]/);
    expect(metrics).toMatch(/orchestrator_step_retries_total\{agent="e2e_poisoner"\} 3/);
    const attempts = await stack.db.query<{ task_id: string; attempts: number }>(
      `SELECT r.task_id, s.attempts FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE r.task_type = 'e2e_poison' AND s.parent_id IS NOT NULL`,
    );
    const retried = attempts.filter((row) => row.attempts > 1).map((row) => row.task_id).sort();
    expect(retried).toEqual(['poison-17', 'poison-42', 'poison-77']);
    // Each refusal is logged with the reason, as the error of the attempt it failed.
    const rejections = [
      'answer rejected: result.text: contains a NUL character',
      'answer rejected: result.text: contains an unpaired UTF-16 surrogate',
      'answer rejected: result.deeper',
    ];
    const log = await waitFor('the rejections in the log', () => {
      const text = readFileSync(stack.orchestrator.logFile, 'utf8');
      return rejections.every((line) => text.includes(line)) ? text : undefined;
    });
    expect(log).toMatch(/answer rejected: result(\.deeper)+: is nested deeper than 64 levels/);
    // No slot stays taken on the agent.
    const redis = new Redis(testEnv().redisUrl);
    try {
      expect(await redis.zcard('orchestrator:agents:in-flight:e2e_poisoner')).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  it('fails a step whose input is over the server max_payload, naming the sizes, and still answers everything beside it', async () => {
    const size = 600_000;
    const [big, ...small] = await Promise.all([
      stack.submit({ task_id: 'big-input', task_type: 'e2e_big_input', payload: { size } }, 60_000),
      ...Array.from({ length: 20 }, (_, i) => stack.submit({ task_id: `beside-input-${i}`, task_type: 'e2e_small' }, 60_000)),
    ]);
    expect(big).toMatchObject({ status: 'FAILED' });
    expect(String(big?.['error'])).toMatch(/^step "use" \(agent e2e_sizer\) failed: input: the sub-task is \d+ bytes; the NATS server takes messages of at most \d+ bytes$/);
    expect(small.map((answer) => answer['status'])).toEqual(small.map(() => 'COMPLETED'));
  });

  it('answers a result too large for one message without its per-step results, and says where the whole is', async () => {
    const size = 600_000;
    const [whole, ...small] = await Promise.all([
      stack.submit({ task_id: 'big-result', task_type: 'e2e_big_result', payload: { size } }, 60_000),
      ...Array.from({ length: 20 }, (_, i) => stack.submit({ task_id: `beside-result-${i}`, task_type: 'e2e_small' }, 60_000)),
    ]);
    expect(whole).toMatchObject({ status: 'COMPLETED', result: { output: { sizes: [size, size] } } });
    const result = whole?.['result'] as Record<string, unknown>;
    expect(result['steps']).toBeUndefined();
    expect(String(result['truncated'])).toContain('GET /tasks/big-result');
    expect(small.map((answer) => answer['status'])).toEqual(small.map(() => 'COMPLETED'));
    // The whole result is kept.
    const view = await stack.get<{ result: { steps: Record<string, { blob: string }> } }>('/tasks/big-result');
    expect(view.result.steps['one']?.blob).toHaveLength(size);
  });

  it('fails a workflow whose output alone is too large for one message, naming the sizes', async () => {
    const answer = await stack.submit({ task_id: 'big-output', task_type: 'e2e_big_output', payload: { size: 600_000 } }, 60_000);
    expect(answer).toMatchObject({ status: 'FAILED' });
    expect(String(answer['error'])).toMatch(/^output: \d+ bytes; the NATS server takes messages of at most \d+ bytes \(GET \/tasks\/big-output has it\)$/);
  });

  it('starts a retry for an idle agent within a sweep while 300 steps wait for a saturated one', async () => {
    const waiting = Array.from({ length: 300 }, (_, i) => stack.submit({ task_id: `busy-${i}`, task_type: 'e2e_busy' }, 120_000));
    await waitFor('the busy agent to hold one task and 299 steps to wait', async () => {
      const [{ n }] = await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE task_type = 'e2e_hold' AND status = 'PENDING' AND waiting_on IS NOT NULL`);
      return busyHeld.length === 1 && n === 299 ? true : undefined;
    });
    const started = Date.now();
    const retried = await stack.submit({ task_id: 'idle-retry', task_type: 'e2e_idle_retry' }, 60_000);
    const ms = Date.now() - started;
    console.log(`starvation: a retry for an idle agent completed in ${ms} ms with 299 steps waiting for a saturated agent (sweep every 200 ms)`);
    expect(retried).toMatchObject({ status: 'COMPLETED', result: { steps: { once: { attempt: 2 } } } });
    // It did not wait for the saturated agent's work: that is still held.
    expect(busyHeld).toHaveLength(1);
    // The waiting steps run one at a time as the busy agent frees its slot.
    const release = setInterval(() => busyHeld.shift()?.(), 5);
    try {
      const done = await Promise.all(waiting);
      expect(done.every((answer) => answer['status'] === 'COMPLETED')).toBe(true);
    } finally {
      clearInterval(release);
    }
  });

  /** The messages on these subjects, in the order they were published (one publisher: the orchestrator). */
  async function watch(subjects: string[], run: () => Promise<unknown>): Promise<string[]> {
    const seen: string[] = [];
    const spy = await connect({ servers: natsUrl(), name: 'e2e-spy' });
    try {
      for (const subject of subjects) {
        spy.subscribe(subject, {
          callback: (_e, msg) => {
            seen.push(`${subject.endsWith('.cancel') ? 'cancel' : 'task'} ${msg.json<{ task_id: string }>().task_id}`);
          },
        });
      }
      await spy.flush();
      await run();
      await spy.flush();
      return seen;
    } finally {
      await spy.close();
    }
  }

  it('tells the agent of a timed-out attempt to stop before the retry is sent', async () => {
    const seen = await watch([agentTaskSubject('e2e_sleepy'), agentCancelSubject('e2e_sleepy')], async () => {
      const answer = await stack.submit({ task_id: 'sleepy-1', task_type: 'e2e_sleepy' }, 30_000);
      expect(answer).toMatchObject({ status: 'COMPLETED', result: { steps: { nap: { woke: true } } } });
    });
    const [first, cancel, retry] = seen;
    const id = first?.split(' ')[1] ?? '';
    expect(first).toMatch(/^task .+:1$/);
    expect(cancel).toBe(`cancel ${id}`);
    expect(retry).toBe(`task ${id.replace(/:1$/, ':2')}`);
  });

  it('cancels the child workflow of a timed-out workflow step before the retry starts another', async () => {
    // Child workflows start, and are cancelled, on the orchestrators' own subjects.
    const seen = await watch([ORCHESTRATOR_WORKFLOW_SUBJECT, ORCHESTRATOR_WORKFLOW_CANCEL_SUBJECT], async () => {
      const answer = await stack.submit({ task_id: 'sleepy-nested-1', task_type: 'e2e_sleepy_nested' }, 30_000);
      expect(answer).toMatchObject({ status: 'COMPLETED' });
    });
    // The first child, the cancel of that child, then the retry's child.
    const [first, cancel, retry] = seen;
    const id = first?.split(' ')[1] ?? '';
    expect(first).toMatch(/^task .+:1$/);
    expect(cancel).toBe(`cancel ${id}`);
    expect(retry).toBe(`task ${id.replace(/:1$/, ':2')}`);
    const children = await stack.db.query<{ task_id: string; status: string }>(
      `SELECT task_id, status FROM tasks WHERE parent_id IS NULL AND task_type = 'e2e_sleepy_flow' ORDER BY created_at`,
    );
    expect(children.map((child) => [child.task_id, child.status])).toEqual([
      [id, 'CANCELLED'],
      [id.replace(/:1$/, ':2'), 'COMPLETED'],
    ]);
  });
});
