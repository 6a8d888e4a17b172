import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentResponseSubject, ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { pairAgents } from './support/pair-agents.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');
const LIMIT = 64 * 1024;

/** A small deterministic generator, so that a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD = ['', ' ', '\u0000', '😀', '\u202e', 'a.>', '*', 'x'.repeat(200), '<script>', 'DROP TABLE tasks;', '\ud800'];

/** A TaskRequest that is wrong in at least one way, or bytes that are not one at all. */
function malformedRequest(random: () => number, i: number): string | Uint8Array {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  switch (i % 10) {
    case 0:
      return new Uint8Array(Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
    case 1:
      return JSON.stringify({ task_id: `f-${i}`, task_type: 'e2e_pair', payload: { text: 'x' } }).slice(0, 5 + Math.floor(random() * 40));
    case 2:
      return JSON.stringify({ task_id: pick([1, null, true, {}, [], '']), task_type: 'e2e_pair', payload: { text: 'x' } });
    case 3:
      return JSON.stringify({ task_id: `f-${i}`, task_type: pick([7, null, 'Bad Type', 'a'.repeat(65), ...WEIRD]), payload: {} });
    case 4: {
      let deep: unknown = 'bottom';
      for (let d = 0; d < 2_000; d++) deep = [deep];
      return JSON.stringify({ task_id: `f-${i}`, task_type: 'e2e_pair', payload: { text: deep } });
    }
    case 5:
      return JSON.stringify({ task_id: `f-${i}`, task_type: 'e2e_pair', payload: { text: 'y'.repeat(LIMIT) } });
    case 6:
      return JSON.stringify({ task_id: `f-${i}`, task_type: 'e2e_pair', payload: pick(['text', 3, [1], true]) });
    case 7:
      // Fields a request does not have are ignored (the contract): these carry the request inside one, as Nest's envelope does.
      return JSON.stringify({ [pick(['data', 'pattern', 'id', '__proto__', 'constructor'])]: { task_id: `f-${i}`, task_type: 'e2e_pair', payload: { text: 'x' } }, extra: pick(WEIRD) });
    case 8:
      return JSON.stringify({ task_id: `f-${i}`, task_type: 'e2e_pair', payload: { text: 'x' }, priority: pick(['urgent', 1, {}, ...WEIRD]) });
    default:
      return JSON.stringify({ task_id: `f-${i}${pick(['\t', ' ', '\n'])}x`, task_type: 'e2e_pair', payload: { text: pick(WEIRD) }, requester_id: pick(WEIRD) });
  }
}

describe('hostile input', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, env: { MAX_MESSAGE_BYTES: String(LIMIT) }, agents: pairAgents() });

  it('survives 10,000 malformed messages and forged answers, answering each request FAILED and writing nothing', async () => {
    const random = prng(20_261_124);
    // Real workflows whose sub-tasks the forgeries aim at.
    const real = await Promise.all([0, 1, 2].map((i) => stack.submit({ task_id: `real-${i}`, task_type: 'e2e_pair', payload: { text: `r${i}` } })));
    expect(real.every((r) => r['status'] === 'COMPLETED')).toBe(true);
    const before = await stack.db.query<{ id: string; status: string; attempts: number; result: unknown }>(`SELECT id, status, attempts, result FROM tasks ORDER BY id`);
    const steps = before.filter((row) => row.attempts > 0);

    let requests = 0;
    let failedAnswers = 0;
    for (let batch = 0; batch < 8; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 500 }, (_, j) => {
          requests += 1;
          return stack.submit(malformedRequest(random, batch * 500 + j), 30_000).catch(() => ({ status: 'NO ANSWER' }));
        }),
      );
      failedAnswers += answers.filter((a) => a['status'] === 'FAILED').length;
    }
    let fireAndForget = 0;
    for (let i = 0; i < 2_000; i++) {
      stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, malformedRequest(random, i));
      fireAndForget += 1;
    }
    let forged = 0;
    for (let i = 0; i < 2_000; i++) {
      const step = steps[i % steps.length] as { id: string; attempts: number };
      const taskId = [`${step.id}:${step.attempts + 1 + (i % 5)}`, `${step.id}:0`, `${step.id}:-1`, `${step.id}`, `00000000-0000-4000-8000-${String(i).padStart(12, '0')}:1`][i % 5];
      const status = ['FAILED', 'COMPLETED', 'CANCELLED', 'RUNNING', 'BOGUS'][i % 5];
      const body = i % 7 === 0 ? '{"task_id": "' : JSON.stringify({ task_id: taskId, status, success: status === 'COMPLETED', result: { forged: true }, error: 'forged' });
      stack.nats.publish(agentResponseSubject(i % 2 === 0 ? 'e2e_second' : 'e2e_first'), body);
      forged += 1;
    }
    await stack.nats.flush();
    let http4xx = 0;
    for (let i = 0; i < 1_000; i++) {
      const body = malformedRequest(random, i);
      const res = await fetch(`${stack.orchestrator.baseUrl}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (res.status >= 400 && res.status < 500) http4xx += 1;
    }

    const health = await fetch(`${stack.orchestrator.baseUrl}/health/ready`);
    const status = readFileSync(`/proc/${stack.orchestrator.child.pid ?? 0}/status`, 'utf8');
    const peakRssMb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
    const after = await stack.db.query<{ id: string; status: string; attempts: number; result: unknown }>(`SELECT id, status, attempts, result FROM tasks ORDER BY id`);
    console.log(
      `fuzz: ${requests} malformed requests (${failedAnswers} answered FAILED), ${fireAndForget} without a reply subject, ` +
        `${forged} forged answers, ${http4xx}/1000 HTTP bodies refused with 4xx; peak RSS ${peakRssMb.toFixed(0)} MB; ` +
        `rows before ${before.length}, after ${after.length}`,
    );
    expect(stack.orchestrator.running).toBe(true);
    expect(health.status).toBe(200);
    expect(failedAnswers).toBe(requests);
    expect(http4xx).toBe(1_000);
    expect(after).toEqual(before);
    expect(peakRssMb).toBeLessThan(600);
  });
});
