import { Inject, Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { AgentView } from './agent-registry.service.js';

export interface AgentLoadView extends AgentView {
  /** Sub-tasks the orchestrator has in flight on this agent (all replicas). */
  in_flight: number;
  /** What the router ranks by: the larger of in_flight and reported_in_flight over capacity. */
  load: number | null;
}

const key = (agent: string): string => `orchestrator:agents:in-flight:${agent}`;

/** How busy an agent is, 0 to 1 and beyond: the larger of two counts of its sub-tasks in flight over its capacity. */
export function loadRatio(inFlight: number, reportedInFlight: number, capacity: number): number {
  return Math.max(inFlight, reportedInFlight) / capacity;
}

/**
 * The orchestrator's own count of sub-tasks in flight per agent, shared by every replica in Redis:
 * the slots DispatchQueue takes and frees (its sorted set per agent, scored by when each frees itself).
 */
@Injectable()
export class AgentLoadService {
  constructor(@Inject(Redis) private readonly redis: Redis) {}

  async inFlight(agents: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (agents.length === 0) return counts;
    const now = Date.now();
    const pipeline = this.redis.pipeline();
    for (const agent of agents) pipeline.zcount(key(agent), now, '+inf');
    const results = (await pipeline.exec()) ?? [];
    agents.forEach((agent, i) => counts.set(agent, Number(results[i]?.[1] ?? 0)));
    return counts;
  }

  /** The agents with their load as the router sees it. */
  async withLoad(agents: readonly AgentView[]): Promise<AgentLoadView[]> {
    const counts = await this.inFlight(agents.map((agent) => agent.name));
    return agents.map((agent) => {
      const inFlight = counts.get(agent.name) ?? 0;
      const load = agent.capacity ? loadRatio(inFlight, agent.reported_in_flight, agent.capacity) : null;
      return { ...agent, in_flight: inFlight, load };
    });
  }
}
