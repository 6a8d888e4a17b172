import { AGENT_HEARTBEAT_SUBJECT, AGENT_REGISTERED_SUBJECT } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { useTestStack } from './support/test-stack.js';

interface Listed {
  name: string;
  instances: { instance_id: string }[];
}

const announce = (name: string, instance: string) => ({ name, instance_id: instance, agent_type: 'made_up', ts: Date.now() / 1000, capabilities: ['summarize'], load: { in_flight: 0, max_concurrency: 1 } });

describe('an agent registry under made-up announcements', () => {
  const stack = useTestStack({ env: { AGENT_NAMES_MAX: '3', AGENT_INSTANCES_MAX: '5', AGENT_HEARTBEAT_TTL_MS: '1500' } });

  const agents = async (): Promise<Listed[]> => (await stack.get<{ items: Listed[] }>('/agents')).items;
  const refused = async (reason: string): Promise<number> => {
    const metrics = await (await fetch(`${stack.orchestrator.baseUrl}/metrics`)).text();
    return Number(new RegExp(`orchestrator_announcements_refused_total\\{reason="${reason}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
  };
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 400));

  it('holds at most AGENT_NAMES_MAX names and AGENT_INSTANCES_MAX instances, and forgets them when they stop announcing', async () => {
    for (let i = 0; i < 20; i++) stack.nats.publish(AGENT_REGISTERED_SUBJECT, announce(`made_up_${i}`, `i-${i}`));
    await stack.nats.flush();
    await settle();
    const named = await agents();
    // Exactly: every replica takes new instances in one Redis script.
    expect(named).toHaveLength(3);
    expect(await refused('names')).toBe(17);

    // One of those names, announced by many instances: the instance cap holds as well.
    const kept = named[0].name;
    for (let i = 0; i < 20; i++) stack.nats.publish(AGENT_HEARTBEAT_SUBJECT, announce(kept, `many-${i}`));
    await stack.nats.flush();
    await settle();
    const instances = (await agents()).reduce((sum, agent) => sum + agent.instances.length, 0);
    expect(instances).toBe(5);
    expect(await refused('instances')).toBe(18);

    // Malformed announcements are refused and counted too.
    stack.nats.publish(AGENT_HEARTBEAT_SUBJECT, { name: 'Not A Name', instance_id: 'x', agent_type: 't', capabilities: [] });
    await stack.nats.flush();
    await settle();
    expect(await refused('invalid')).toBe(1);

    // Silent past the heartbeat window: forgotten, and room again for others.
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    expect(await agents()).toEqual([]);
    stack.nats.publish(AGENT_REGISTERED_SUBJECT, announce('made_up_late', 'late-1'));
    await stack.nats.flush();
    await settle();
    expect((await agents()).map((agent) => agent.name)).toEqual(['made_up_late']);
  });
});
