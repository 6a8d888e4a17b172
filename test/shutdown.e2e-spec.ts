import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { pairAgents } from './support/pair-agents.js';
import { ResilientRequester } from './support/resilient-requester.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');
const WORKFLOWS = 40;

describe('graceful shutdown with work in flight', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, agents: pairAgents({ delayMs: 300, maxConcurrency: 8 }), agentsFirst: true });

  it('exits promptly on SIGTERM and a restarted replica finishes everything once', async () => {
    const requester = new ResilientRequester(stack.nats, 'e2e.shutdown.replies', () => stack.orchestrator.baseUrl);
    await requester.start();
    for (let i = 0; i < WORKFLOWS; i++) requester.submit({ task_id: `shutdown-${i}`, task_type: 'e2e_slow_pair', payload: { text: `t${i}` } });
    await waitFor('work to be in flight', async () => {
      const [{ running }] = await stack.db.query<{ running: number }>(`SELECT count(*)::int AS running FROM tasks WHERE status = 'RUNNING' AND parent_id IS NOT NULL`);
      return running >= 8 ? true : undefined;
    });
    const stopping = Date.now();
    await stack.orchestrator.stop(15_000);
    const stoppedIn = Date.now() - stopping;
    expect(stack.orchestrator.child.signalCode === 'SIGTERM' || stack.orchestrator.child.exitCode === 0).toBe(true);
    // Shut down, not just killed: its NATS intake drained and closed before it exited (a process
    // that dies at the signal writes nothing more).
    const lines = (await stack.orchestrator.output()).split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg?: string });
    expect(lines.some((line) => /NatsStatus: type: "close"/.test(line.msg ?? ''))).toBe(true);
    const [{ interrupted }] = await stack.db.query<{ interrupted: number }>(
      `SELECT count(*)::int AS interrupted FROM tasks WHERE parent_id IS NULL AND status = 'RUNNING'`,
    );
    await stack.restart();
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
    const [{ steps }] = await stack.db.query<{ steps: number }>(
      `SELECT count(*)::int AS steps FROM tasks WHERE parent_id IS NOT NULL AND status = 'COMPLETED'`,
    );
    expect(steps).toBe(WORKFLOWS * 2);
  });
});
