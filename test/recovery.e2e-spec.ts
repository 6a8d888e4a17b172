import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { infra } from './support/infra.js';
import { waitFor } from './support/orchestrator-process.js';
import { pairAgents } from './support/pair-agents.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');
const WORKFLOWS = 60;

describe('recovery when NATS, PostgreSQL or Redis restarts mid-run', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, agents: pairAgents({ delayMs: 100, maxConcurrency: 4 }), agentsFirst: true });

  async function completed(prefix: string): Promise<number> {
    const [row] = await stack.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tasks WHERE parent_id IS NULL AND status = 'COMPLETED' AND task_id LIKE $1`,
      [`${prefix}-%`],
    );
    return row?.n ?? 0;
  }

  async function readiness(): Promise<number> {
    return (await fetch(`${stack.orchestrator.baseUrl}/health/ready`)).status;
  }

  function submitAll(prefix: string): void {
    for (let i = 0; i < WORKFLOWS; i++) {
      stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id: `${prefix}-${i}`, task_type: 'e2e_resilient', payload: { text: `t${i}` }, requester_id: 'e2e_recovery' });
    }
  }

  it('completes every workflow after NATS is restarted', async () => {
    submitAll('nats');
    await stack.nats.flush();
    await waitFor('some workflows to complete', async () => ((await completed('nats')) >= 5 ? true : undefined));
    await infra('stop', 'nats');
    const during = await completed('nats');
    await waitFor('readiness to report NATS down', async () => ((await readiness()) === 503 ? true : undefined), 10_000);
    await sleep(1_000);
    await infra('start', 'nats');
    await waitFor('readiness to recover', async () => ((await readiness()) === 200 ? true : undefined), 20_000);
    await waitFor(`all ${WORKFLOWS} workflows to complete`, async () => ((await completed('nats')) === WORKFLOWS ? true : undefined), 90_000, 250);
    console.log(`NATS restart: ${during} of ${WORKFLOWS} completed when it stopped, all ${WORKFLOWS} afterwards`);
    // The outage came in the middle of the run: work was left unfinished, and finished after it.
    expect(during).toBeLessThan(WORKFLOWS);
    expect(await completed('nats')).toBe(WORKFLOWS);
  });

  it('completes every workflow after PostgreSQL is restarted, and keeps a request it cannot store meanwhile until it can', async () => {
    submitAll('pg');
    await stack.nats.flush();
    await waitFor('some workflows to complete', async () => ((await completed('pg')) >= 5 ? true : undefined));
    const before = await completed('pg');
    // The outage comes in the middle of the run: work is left unfinished, to be finished after it.
    expect(before).toBeLessThan(WORKFLOWS);
    await stack.db.close();
    await infra('stop', 'postgres');
    let kept: Promise<Record<string, unknown>> | undefined;
    try {
      await waitFor('readiness to report PostgreSQL down', async () => ((await readiness()) === 503 ? true : undefined), 10_000);
      // A request that cannot be stored now stays in the intake stream, delivered again until it is.
      kept = stack.submit({ task_id: 'while-pg-down', task_type: 'e2e_resilient', payload: { text: 'again' } }, 90_000);
      await stack.nats.flush();
      // The outage lasts while the request is tried (a replica holds it until the database answers or the attempt fails).
      await sleep(2_000);
    } finally {
      await infra('start', 'postgres');
    }
    await stack.reconnectDatabase();
    const during = await completed('pg');
    await waitFor('readiness to recover', async () => ((await readiness()) === 200 ? true : undefined), 20_000);
    await waitFor(`all ${WORKFLOWS} workflows to complete`, async () => ((await completed('pg')) === WORKFLOWS ? true : undefined), 90_000, 250);
    console.log(`PostgreSQL restart: ${during} of ${WORKFLOWS} completed just after it came back, all ${WORKFLOWS} afterwards`);
    expect(await completed('pg')).toBe(WORKFLOWS);
    const [{ steps }] = await stack.db.query<{ steps: number }>(
      `SELECT count(*)::int AS steps FROM tasks s JOIN tasks r ON s.root_id = r.id WHERE r.task_id LIKE 'pg-%' AND s.parent_id IS NOT NULL AND s.status = 'COMPLETED'`,
    );
    expect(steps).toBe(WORKFLOWS * 2);
    // The request sent while it was down ran once it was back, and its requester got the answer.
    expect(await kept).toMatchObject({ task_id: 'while-pg-down', status: 'COMPLETED', result: { steps: { second: { text: '[AGAIN]' } } } });
  });

  it('completes every workflow after Redis is restarted, readiness naming it while it is down', async () => {
    submitAll('redis');
    await stack.nats.flush();
    await waitFor('some workflows to complete', async () => ((await completed('redis')) >= 5 ? true : undefined));
    await infra('stop', 'redis');
    let during: number;
    try {
      during = await completed('redis');
      const down = await waitFor('readiness to report Redis down', async () => {
        const res = await fetch(`${stack.orchestrator.baseUrl}/health/ready`);
        return res.status === 503 ? ((await res.json()) as { message?: string; error?: Record<string, unknown> }) : undefined;
      }, 10_000);
      expect(down).toMatchObject({ code: 'NOT_READY', message: 'not ready: redis down', error: { redis: { status: 'down' } } });
      expect(Object.keys(down.error ?? {})).toEqual(['redis']);
      await sleep(1_000);
    } finally {
      await infra('start', 'redis');
    }
    await waitFor('readiness to recover', async () => ((await readiness()) === 200 ? true : undefined), 20_000);
    await waitFor(`all ${WORKFLOWS} workflows to complete`, async () => ((await completed('redis')) === WORKFLOWS ? true : undefined), 90_000, 250);
    console.log(`Redis restart: ${during} of ${WORKFLOWS} completed when it stopped, all ${WORKFLOWS} afterwards`);
    expect(during).toBeLessThan(WORKFLOWS);
    const [{ steps }] = await stack.db.query<{ steps: number }>(
      `SELECT count(*)::int AS steps FROM tasks s JOIN tasks r ON s.root_id = r.id WHERE r.task_id LIKE 'redis-%' AND s.parent_id IS NOT NULL AND s.status = 'COMPLETED'`,
    );
    expect(steps).toBe(WORKFLOWS * 2);
  });
});
