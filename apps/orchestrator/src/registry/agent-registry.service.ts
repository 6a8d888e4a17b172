import { Inject, Injectable } from '@nestjs/common';
import type { AgentAnnouncement, AgentLoad } from '@orchestrator/contracts';
import { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config.js';

const INSTANCES_SET = 'orchestrator:agents:instances';
const instanceKey = (member: string): string => `orchestrator:agents:instance:${member}`;

export interface AgentInstanceView {
  instance_id: string;
  agent_type: string;
  capabilities: string[];
  load: AgentLoad | null;
  last_seen: string;
}

export interface AgentView {
  name: string;
  capabilities: string[];
  instances: AgentInstanceView[];
}

interface StoredInstance {
  name: string;
  instance_id: string;
  agent_type: string;
  capabilities: string[];
  load: AgentLoad | null;
  last_seen_ms: number;
}

/**
 * Live agent instances, shared by every replica through Redis. An instance is stored with an
 * expiry of the heartbeat window, so one that stops announcing itself disappears by itself.
 */
@Injectable()
export class AgentRegistryService {
  constructor(
    @Inject(Redis) private readonly redis: Redis,
    private readonly config: AppConfig,
  ) {}

  async record(announcement: AgentAnnouncement, now = Date.now()): Promise<void> {
    const member = `${announcement.name}/${announcement.instance_id}`;
    const stored: StoredInstance = {
      name: announcement.name,
      instance_id: announcement.instance_id,
      agent_type: announcement.agent_type,
      capabilities: announcement.capabilities,
      load: announcement.load ?? null,
      last_seen_ms: now,
    };
    await this.redis
      .multi()
      .set(instanceKey(member), JSON.stringify(stored), 'PX', this.config.AGENT_HEARTBEAT_TTL_MS)
      .sadd(INSTANCES_SET, member)
      .exec();
  }

  async list(): Promise<AgentView[]> {
    const members = await this.redis.smembers(INSTANCES_SET);
    if (members.length === 0) return [];
    const values = await this.redis.mget(members.map(instanceKey));
    const gone = members.filter((_, index) => values[index] === null);
    if (gone.length > 0) await this.redis.srem(INSTANCES_SET, ...gone);
    const byName = new Map<string, AgentView>();
    for (const value of values) {
      if (value === null) continue;
      const stored = JSON.parse(value) as StoredInstance;
      const agent = byName.get(stored.name) ?? { name: stored.name, capabilities: [], instances: [] };
      agent.instances.push({
        instance_id: stored.instance_id,
        agent_type: stored.agent_type,
        capabilities: stored.capabilities,
        load: stored.load,
        last_seen: new Date(stored.last_seen_ms).toISOString(),
      });
      agent.capabilities = [...new Set([...agent.capabilities, ...stored.capabilities])].sort();
      byName.set(stored.name, agent);
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
