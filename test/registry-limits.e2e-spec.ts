import { Agent } from '@orchestrator/agent-sdk';
import { AGENT_HEARTBEAT_SUBJECT, AGENT_REGISTERED_SUBJECT, agentAnnouncementSubject } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { metric } from './support/metrics.js';
import { waitFor } from './support/orchestrator-process.js';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

interface Listed {
  name: string;
  capacity: number | null;
  instances: { instance_id: string; load: { max_concurrency: number } | null }[];
}

const announce = (name: string, instance: string, maxConcurrency = 1) => ({
  name,
  instance_id: instance,
  agent_type: 'made_up',
  ts: Date.now() / 1000,
  capabilities: ['summarize'],
  load: { in_flight: 0, max_concurrency: maxConcurrency },
});

describe('an agent registry under made-up announcements', () => {
  const stack = useTestStack({
    env: { AGENT_NAMES_MAX: '3', AGENT_INSTANCES_MAX: '5', AGENT_INSTANCES_PER_NAME_MAX: '3', AGENT_HEARTBEAT_TTL_MS: '1500', AGENT_MAX_CONCURRENCY: '50' },
  });

  const agents = async (): Promise<Listed[]> => (await stack.get<{ items: Listed[] }>('/agents')).items;
  const refused = (reason: string): Promise<number> => metric(stack.orchestrator.baseUrl, 'orchestrator_announcements_refused_total', { reason });
  const evicted = (reason: string): Promise<number> => metric(stack.orchestrator.baseUrl, 'orchestrator_agent_instances_evicted_total', { reason });

  it('holds at most AGENT_NAMES_MAX names and AGENT_INSTANCES_MAX instances, the newest getting in, and forgets them when they stop announcing', async () => {
    for (let i = 0; i < 20; i++) stack.nats.publish(AGENT_REGISTERED_SUBJECT, announce(`made_up_${i}`, `i-${i}`));
    await stack.nats.flush();
    // Every announcement handled (17 names made room for a newer one): then the split is exact, as
    // every replica takes new instances in one Redis script; each new name made room by dropping the
    // name heard from least lately, so the last one announced is there.
    await waitFor('the 20 announcements to be handled', async () => ((await evicted('names')) >= 17 ? true : undefined));
    const names = (await agents()).map((agent) => agent.name);
    expect(names).toHaveLength(3);
    expect(names).toContain('made_up_19');
    expect(await evicted('names')).toBe(17);

    // One of those names, announced by many instances: its share holds, and the newest are kept.
    for (let i = 0; i < 20; i++) stack.nats.publish(AGENT_HEARTBEAT_SUBJECT, announce('made_up_19', `many-${i}`));
    await stack.nats.flush();
    await waitFor('the 20 heartbeats to be handled', async () => ((await evicted('per_name')) + (await evicted('instances')) >= 18 ? true : undefined));
    const listed = await agents();
    expect(listed.reduce((sum, agent) => sum + agent.instances.length, 0)).toBe(5);
    expect(listed.find((agent) => agent.name === 'made_up_19')?.instances.map((i) => i.instance_id).sort()).toEqual(['many-17', 'many-18', 'many-19']);
    expect((await evicted('per_name')) + (await evicted('instances'))).toBe(18);

    // Malformed announcements are refused and counted too.
    stack.nats.publish(AGENT_HEARTBEAT_SUBJECT, { name: 'Not A Name', instance_id: 'x', agent_type: 't', capabilities: [] });
    await stack.nats.flush();
    await waitFor('the malformed announcement to be refused', async () => ((await refused('invalid')) >= 1 ? true : undefined));
    expect(await refused('invalid')).toBe(1);

    // Silent past the heartbeat window (1.5 s): forgotten, and room again for others.
    await waitFor('the silent agents to be forgotten', async () => ((await agents()).length === 0 ? true : undefined), 15_000);
    stack.nats.publish(AGENT_REGISTERED_SUBJECT, announce('made_up_late', 'late-1'));
    await stack.nats.flush();
    await waitFor('the late agent to be registered', async () => ((await agents()).length > 0 ? true : undefined));
    expect((await agents()).map((agent) => agent.name)).toEqual(['made_up_late']);
    // It found room: nobody made way for it.
    expect(await evicted('names')).toBe(17);
  });

  it('takes an announcement on an agent\'s own subject only under that name, and caps the capacity announced', async () => {
    stack.nats.publish(agentAnnouncementSubject('made_up_own', 'registered'), announce('made_up_other', 'o-1'));
    stack.nats.publish(agentAnnouncementSubject('made_up_own', 'heartbeat'), announce('made_up_own', 'o-2', 1e15));
    await stack.nats.flush();
    await waitFor('the announcement under another name to be refused', async () => ((await refused('subject')) === 1 ? true : undefined));
    const own = await waitFor('made_up_own to be listed', async () => (await agents()).find((agent) => agent.name === 'made_up_own'));
    expect(own.instances.map((i) => [i.instance_id, i.load?.max_concurrency])).toEqual([['o-2', 50]]);
    expect(own.capacity).toBe(50);
    expect(await refused('capacity')).toBe(1);
    expect((await agents()).map((agent) => agent.name)).not.toContain('made_up_other');
  });

  it('lets a restarting agent in while an agent floods the registry with made-up instances of itself', async () => {
    // What an agent can do under NATS permissions: announce only as itself, as often as it likes.
    const flood = setInterval(() => {
      for (let i = 0; i < 10; i++) stack.nats.publish(agentAnnouncementSubject('flooder', 'heartbeat'), announce('flooder', `f-${Date.now()}-${i}`));
    }, 20);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const real = new Agent({ name: 'e2e_restarting', agentType: 'test', natsUrl: testEnv().natsUrl, heartbeatIntervalMs: 500 }).handle('summarize', () => Promise.resolve({}));
      await stack.startAgents(real);
      await waitFor('the restarting agent to be listed', async () => ((await agents()).some((agent) => agent.name === 'e2e_restarting') ? true : undefined), 10_000);
      // And it stays: the flood churns only the flooder's own share.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const listed = await agents();
      expect(listed.find((agent) => agent.name === 'e2e_restarting')?.instances).toHaveLength(1);
      expect(listed.find((agent) => agent.name === 'flooder')?.instances.length ?? 0).toBeLessThanOrEqual(3);
      expect(await evicted('per_name')).toBeGreaterThan(3);
    } finally {
      clearInterval(flood);
      await stack.stopAgents();
    }
  });
});
