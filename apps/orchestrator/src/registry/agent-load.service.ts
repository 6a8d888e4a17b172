import { Inject, Injectable, Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { AgentView } from './agent-registry.service.js';

export interface AgentLoadView extends AgentView {
  /** Sub-tasks the orchestrator has in flight on this agent (all replicas). */
  in_flight: number;
  /** What the router ranks by: the larger of in_flight and reported_in_flight over capacity. */
  load: number | null;
}

const key = (agent: string): string => `orchestrator:agents:in-flight:${agent}`;

/**
 * Takes a slot only while the agent has fewer than `capacity` sub-tasks in flight. Members are
 * scored by their deadline, so a slot whose release was lost (a crash) frees itself at the deadline.
 */
const RESERVE = `
local now = tonumber(ARGV[1])
local expires = tonumber(ARGV[2])
local capacity = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if capacity > 0 and redis.call('ZCARD', KEYS[1]) >= capacity then return 0 end
redis.call('ZADD', KEYS[1], expires, ARGV[4])
if redis.call('PTTL', KEYS[1]) < expires - now then redis.call('PEXPIRE', KEYS[1], expires - now) end
return 1`;

/** How busy an agent is, 0 to 1 and beyond: the larger of two counts of its sub-tasks in flight over its capacity. */
export function loadRatio(inFlight: number, reportedInFlight: number, capacity: number): number {
  return Math.max(inFlight, reportedInFlight) / capacity;
}

/**
 * The orchestrator's own count of sub-tasks in flight per agent, shared by every replica in Redis.
 * The router reserves a slot before dispatching and releases it when the attempt ends.
 */
@Injectable()
export class AgentLoadService {
  private readonly logger = new Logger(AgentLoadService.name);

  constructor(@Inject(Redis) private readonly redis: Redis) {
    this.redis.defineCommand('orchestratorReserve', { numberOfKeys: 1, lua: RESERVE });
  }

  /** True when a slot was taken. Throws when Redis is unreachable. */
  async reserve(agent: string, subtaskId: string, expiresAtMs: number, capacity: number): Promise<boolean> {
    const reserve = (this.redis as unknown as Record<string, (...args: (string | number)[]) => Promise<number>>)['orchestratorReserve'];
    const taken = await reserve.call(this.redis, key(agent), Date.now(), expiresAtMs, capacity, subtaskId);
    return taken === 1;
  }

  async release(agent: string, subtaskId: string): Promise<void> {
    try {
      await this.redis.zrem(key(agent), subtaskId);
    } catch (error) {
      // The slot frees itself at its deadline.
      this.logger.warn(`could not release ${subtaskId} of ${agent}: ${(error as Error).message}`);
    }
  }

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
