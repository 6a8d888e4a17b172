import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent } from '@orchestrator/agent-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDatabase } from './support/database.js';
import { startPairAgents } from './support/pair-agents.js';
import { PlainNatsClient } from './support/nats-client.js';
import { startOrchestrator, waitFor, type AppProcess } from './support/orchestrator-process.js';
import { ResilientRequester } from './support/resilient-requester.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');
const WORKFLOWS = 40;

describe('graceful shutdown with work in flight', () => {
  let db: TestDatabase;
  let nats: PlainNatsClient;
  let orchestrator: AppProcess;
  let agents: Agent[] = [];

  beforeAll(async () => {
    db = await TestDatabase.connect();
    await db.reset();
    agents = await startPairAgents({ delayMs: 300, maxConcurrency: 8 });
    orchestrator = await startOrchestrator({ workflowsDir: FIXTURES });
    nats = await PlainNatsClient.connect();
  });

  afterAll(async () => {
    await nats?.close();
    await Promise.all(agents.map((a) => a.stop()));
    await orchestrator?.stop();
    await db?.close();
  });

  it('exits promptly on SIGTERM and a restarted replica finishes everything once', async () => {
    const requester = new ResilientRequester(nats, 'e2e.shutdown.replies', () => orchestrator.baseUrl);
    await requester.start();
    for (let i = 0; i < WORKFLOWS; i++) requester.submit({ task_id: `shutdown-${i}`, task_type: 'e2e_slow_pair', payload: { text: `t${i}` } });
    await waitFor('work to be in flight', async () => {
      const [{ running }] = await db.query<{ running: number }>(`SELECT count(*)::int AS running FROM tasks WHERE status = 'RUNNING' AND parent_id IS NOT NULL`);
      return running >= 8 ? true : undefined;
    });
    const stopping = Date.now();
    await orchestrator.stop(15_000);
    const stoppedIn = Date.now() - stopping;
    expect(orchestrator.child.signalCode === 'SIGTERM' || orchestrator.child.exitCode === 0).toBe(true);
    const [{ interrupted }] = await db.query<{ interrupted: number }>(
      `SELECT count(*)::int AS interrupted FROM tasks WHERE parent_id IS NULL AND status = 'RUNNING'`,
    );
    orchestrator = await startOrchestrator({ workflowsDir: FIXTURES });
    try {
      await waitFor(`all ${WORKFLOWS} to finish`, () => (requester.finals.size === WORKFLOWS ? true : undefined), 60_000, 200);
      await sleep(500);
    } finally {
      requester.stop();
    }
    console.log(`graceful shutdown: exited ${stoppedIn} ms after SIGTERM with ${interrupted} workflows in flight; all ${WORKFLOWS} completed after the restart`);
    expect(stoppedIn).toBeLessThan(10_000);
    expect(interrupted).toBeGreaterThan(0);
    for (const responses of requester.finals.values()) {
      expect(responses[0]).toMatchObject({ status: 'COMPLETED' });
      for (const copy of responses) expect(copy).toEqual(responses[0]);
    }
    const [{ steps }] = await db.query<{ steps: number }>(
      `SELECT count(*)::int AS steps FROM tasks WHERE parent_id IS NOT NULL AND status = 'COMPLETED'`,
    );
    expect(steps).toBe(WORKFLOWS * 2);
  });
});
