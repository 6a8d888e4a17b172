import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDatabase } from './support/database.js';
import { PlainNatsClient } from './support/nats-client.js';
import { startDemoAgents, startOrchestrator, waitFor, waitForAgents, type AppProcess } from './support/orchestrator-process.js';
import { ResilientRequester } from './support/resilient-requester.js';

const WORKFLOWS = 1_000;

interface ReplicaStatus {
  replica_id: string;
  workflows_started: number;
  workflows_finished: number;
  responses_applied: number;
}

describe('three replicas share the work', () => {
  let db: TestDatabase;
  let nats: PlainNatsClient;
  let replicas: AppProcess[] = [];
  let agents: AppProcess;

  async function status(replica: AppProcess): Promise<ReplicaStatus> {
    return (await (await fetch(`${replica.baseUrl}/status`)).json()) as ReplicaStatus;
  }

  beforeAll(async () => {
    db = await TestDatabase.connect();
    await db.reset();
    replicas = await Promise.all([1, 2, 3].map((n) => startOrchestrator({ env: { INSTANCE_ID: `replica-${n}` } })));
    agents = startDemoAgents(mkdtempSync(join(tmpdir(), 'replicas-published-')), undefined);
    nats = await PlainNatsClient.connect();
    await waitForAgents(replicas[0]?.baseUrl ?? '', 5);
  });

  afterAll(async () => {
    await nats?.close();
    await agents?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    await db?.close();
  });

  it('completes 1,000 workflows once each, shared among replicas, with one replica killed mid-run', async () => {
    const started = Date.now();
    const live = () => replicas.find((r) => r.running) ?? replicas[0];
    const requester = new ResilientRequester(nats, 'e2e.replicas.replies', () => live()?.baseUrl ?? '');
    await requester.start();
    const submitting = requester.submitPaced(
      Array.from({ length: WORKFLOWS }, (_, i) => ({ task_id: `replicas-${i}`, task_type: 'create_blog_post', payload: { topic: `Replica ${i}` } })),
      50,
      100,
    );
    await waitFor('a third of the work to be done', () => (requester.finals.size >= WORKFLOWS / 3 ? true : undefined), 120_000);
    const victim = replicas[2];
    const before = await status(victim);
    await victim.kill();
    try {
      await submitting;
      await waitFor(`final responses for all ${WORKFLOWS}`, () => (requester.finals.size === WORKFLOWS ? true : undefined), 240_000, 200);
      await sleep(1_000);
    } finally {
      requester.stop();
    }
    const survivors = await Promise.all(replicas.slice(0, 2).map(status));
    const counts = [...survivors, { ...before, replica_id: `${before.replica_id} (killed; as last seen)` }];
    console.log(
      `replicas: ${WORKFLOWS} workflows in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        counts.map((c) => `${c.replica_id}: ${c.workflows_started} started, ${c.workflows_finished} finished, ${c.responses_applied} responses`).join('; ') +
        `; ${requester.resubmitted} resubmitted`,
    );
    const statuses = [...requester.finals.values()].map((responses) => responses[0]?.['status']);
    expect(statuses.filter((s) => s === 'COMPLETED')).toHaveLength(WORKFLOWS);
    for (const responses of requester.finals.values()) for (const copy of responses) expect(copy).toEqual(responses[0]);
    const [{ roots, steps }] = await db.query<{ roots: number; steps: number }>(
      `SELECT count(*) FILTER (WHERE parent_id IS NULL AND status = 'COMPLETED')::int AS roots,
              count(*) FILTER (WHERE parent_id IS NOT NULL AND status = 'COMPLETED')::int AS steps FROM tasks`,
    );
    expect(roots).toBe(WORKFLOWS);
    expect(steps).toBe(WORKFLOWS * 5);
    for (const count of counts) expect(count.workflows_started).toBeGreaterThan(0);
  });
});
