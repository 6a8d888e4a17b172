import { AGENT_HEARTBEAT_SUBJECT, AGENT_REGISTERED_SUBJECT } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
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
  const instances = async (): Promise<number> => (await agents()).reduce((sum, agent) => sum + agent.instances.length, 0);

  it('holds at most AGENT_NAMES_MAX names and AGENT_INSTANCES_MAX instances, and forgets them when they stop announcing', async () => {
    for (let i = 0; i < 20; i++) stack.nats.publish(AGENT_REGISTERED_SUBJECT, announce(`made_up_${i}`, `i-${i}`));
    await stack.nats.flush();
    // Every announcement taken or refused: then the split is exact (every replica takes new instances in one Redis script).
    await waitFor('the 20 announcements to be handled', async () => ((await agents()).length + (await refused('names')) >= 20 ? true : undefined));
    const named = await agents();
    expect(named).toHaveLength(3);
    expect(await refused('names')).toBe(17);

    // One of those names, announced by many instances: the instance cap holds as well.
    const kept = named[0].name;
    for (let i = 0; i < 20; i++) stack.nats.publish(AGENT_HEARTBEAT_SUBJECT, announce(kept, `many-${i}`));
    await stack.nats.flush();
    await waitFor('the 20 heartbeats to be handled', async () => ((await instances()) - 3 + (await refused('instances')) >= 20 ? true : undefined));
    expect(await instances()).toBe(5);
    expect(await refused('instances')).toBe(18);

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
    expect(await refused('names')).toBe(17);
  });
});
