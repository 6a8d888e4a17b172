import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { waitFor, type AppProcess } from './support/orchestrator-process.js';
import { ResilientRequester } from './support/resilient-requester.js';
import { useTestStack } from './support/test-stack.js';

const WORKFLOWS = 1_000;

interface ReplicaStatus {
  replica_id: string;
  workflows_started: number;
  workflows_finished: number;
  responses_applied: number;
}

describe('three replicas share the work', () => {
  const stack = useTestStack({ replicas: 3, env: (replica) => ({ INSTANCE_ID: `replica-${replica + 1}` }), demoAgents: true, waitForAgents: 5 });

  async function status(replica: AppProcess): Promise<ReplicaStatus> {
    return (await (await fetch(`${replica.baseUrl}/status`)).json()) as ReplicaStatus;
  }

  it('completes 1,000 workflows once each, shared among replicas, with one replica killed mid-run', async () => {
    const started = Date.now();
    const replicas = stack.orchestrators;
    const live = () => replicas.find((r) => r.running) ?? replicas[0];
    const requester = new ResilientRequester(stack.nats, 'e2e.replicas.replies', () => live()?.baseUrl ?? '');
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
    const [{ roots, steps }] = await stack.db.query<{ roots: number; steps: number }>(
      `SELECT count(*) FILTER (WHERE parent_id IS NULL AND status = 'COMPLETED')::int AS roots,
              count(*) FILTER (WHERE parent_id IS NOT NULL AND status = 'COMPLETED')::int AS steps FROM tasks`,
    );
    expect(roots).toBe(WORKFLOWS);
    expect(steps).toBe(WORKFLOWS * 5);
    for (const count of counts) expect(count.workflows_started).toBeGreaterThan(0);
  });
});
