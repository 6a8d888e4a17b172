import { Injectable, Logger } from '@nestjs/common';
import type { PlannedStep } from '../planning/plan.js';
import { AgentLoadService, loadRatio } from '../registry/agent-load.service.js';
import { AgentRegistryService, type AgentView } from '../registry/agent-registry.service.js';
import { agentBucket, RateBuckets, type RateBucket } from '../registry/rate-buckets.service.js';

/**
 * `no-candidate`: nothing can do the step now (it waits up to its timeout);
 * `at-capacity`: every candidate is busy (it waits for a slot, however long);
 * `rate-limited`: the step's rate limit, or every candidate's, is used up (it waits until `retryAtMs`).
 */
export type Route =
  /** `reserved`: a slot was taken on the agent (it has a known capacity), to give back when the attempt ends. */
  | { kind: 'agent'; agent: string; reserved: boolean }
  | { kind: 'wait'; why: 'no-candidate'; reason: string }
  | { kind: 'wait'; why: 'at-capacity'; reason: string; agents: string[] }
  | { kind: 'wait'; why: 'rate-limited'; reason: string; retryAtMs: number; scope: 'agent' | 'step' };

/** Capacity assumed for an agent that reports none, to rank it against agents that do. */
const NOMINAL_CAPACITY = 100;

/**
 * Picks the agent for one attempt of a step and takes a slot on it.
 * - A step naming an agent goes to it, or to its fallbacks in turn on later attempts.
 * - A step naming a capability goes to the least loaded live agent offering it: load is the larger
 *   of the orchestrator's own count of sub-tasks in flight (shared in Redis) and the agent's
 *   reported in_flight, over its max_concurrency; ties are broken at random.
 * An agent at its capacity gets nothing more: the step waits. The agent that failed the previous
 * attempt is left out when there is another candidate. An agent whose rate limit is used up is
 * passed over for one with room; the step's own rate limit (`stepRate`) is taken with the agent's.
 */
@Injectable()
export class AgentRouter {
  private readonly logger = new Logger(AgentRouter.name);

  constructor(
    private readonly registry: AgentRegistryService,
    private readonly load: AgentLoadService,
    private readonly rates: RateBuckets,
  ) {}

  async route(step: PlannedStep, attempt: number, previousAgent: string | null, subtaskId: string, deadlineMs: number, stepRate: RateBucket | null = null): Promise<Route> {
    const agents = await this.registry.live().catch((error: unknown) => {
      this.logger.warn(`agent registry unavailable, routing without it: ${(error as Error).message}`);
      return [] as AgentView[];
    });
    const byName = new Map(agents.map((agent) => [agent.name, agent]));
    let ordered: string[];
    if (step.capability !== null) {
      const capability = step.capability;
      const offering = agents.filter((agent) => agent.capabilities.includes(capability)).map((agent) => agent.name);
      const candidates = [...new Set([...(step.agent ? [step.agent] : []), ...offering, ...step.fallbacks])];
      if (candidates.length === 0) return { kind: 'wait', why: 'no-candidate', reason: `no live agent offers "${capability}"` };
      const counts = await this.load.inFlight(candidates).catch(() => new Map<string, number>());
      const score = (name: string): number => {
        const agent = byName.get(name);
        return loadRatio(counts.get(name) ?? 0, agent?.reported_in_flight ?? 0, agent?.capacity ?? NOMINAL_CAPACITY);
      };
      ordered = candidates
        .map((name) => ({ name, score: score(name), tie: Math.random() }))
        .sort((a, b) => a.score - b.score || a.tie - b.tie)
        .map((c) => c.name);
    } else {
      const named = [step.agent as string, ...step.fallbacks];
      const start = (attempt - 1) % named.length;
      ordered = [...named.slice(start), ...named.slice(0, start)];
    }
    // A retry goes to another candidate than the one that just failed it, when there is one.
    if (previousAgent !== null && ordered.length > 1) ordered = ordered.filter((name) => name !== previousAgent);
    const limited = { retryAtMs: Infinity, agents: [] as string[] };
    for (const [i, name] of ordered.entries()) {
      const rate = byName.get(name)?.rate_limit ?? null;
      const buckets = [...(rate ? [agentBucket(name, rate)] : []), ...(stepRate ? [stepRate] : [])];
      // Only the last candidate keeps a turn for the step when there is no room: another may still take it now.
      const taken = await this.takeRate(buckets, subtaskId, i === ordered.length - 1);
      if (!taken.ok) {
        const retryAtMs = Date.now() + taken.retryAfterMs;
        if (taken.bucket === stepRate) return { kind: 'wait', why: 'rate-limited', scope: 'step', retryAtMs, reason: `the step's rate limit (${stepRate.limit} per ${stepRate.windowMs} ms) is used up` };
        limited.retryAtMs = Math.min(limited.retryAtMs, retryAtMs);
        limited.agents.push(name);
        continue;
      }
      const capacity = byName.get(name)?.capacity ?? null;
      // An agent without a known capacity has no limit to keep: no slot to take.
      if (capacity === null) return { kind: 'agent', agent: name, reserved: false };
      if (await this.reserve(name, subtaskId, deadlineMs, capacity)) return { kind: 'agent', agent: name, reserved: true };
      await this.rates.refund(buckets).catch(() => undefined);
    }
    if (limited.agents.length > 0) {
      // Some or all candidates are rate limited (the others full): the step comes back when a limit has room.
      const { agents, retryAtMs } = limited;
      return { kind: 'wait', why: 'rate-limited', scope: 'agent', retryAtMs, reason: `the rate limit of ${agents.length === 1 ? `agent ${agents[0] ?? ''} is` : `agents ${agents.join(', ')} are`} used up` };
    }
    return {
      kind: 'wait',
      why: 'at-capacity',
      agents: ordered,
      reason: ordered.length === 1 ? `agent ${ordered[0] ?? ''} is at capacity` : `agents ${ordered.join(', ')} are at capacity`,
    };
  }

  release(agent: string, subtaskId: string): Promise<void> {
    return this.load.release(agent, subtaskId);
  }

  /**
   * The agents with a known capacity whose slots are all taken now (the count `reserve` keeps, not
   * the agents' own reports, which lag), for the sweeper to leave the steps waiting on them out.
   */
  async fullAgents(): Promise<string[]> {
    const agents = (await this.registry.live()).filter((agent) => agent.capacity !== null);
    const counts = await this.load.inFlight(agents.map((agent) => agent.name));
    return agents.filter((agent) => (counts.get(agent.name) ?? 0) >= (agent.capacity ?? Infinity)).map((agent) => agent.name);
  }

  /** NATS said nobody listens for this agent: its instances are gone until they announce themselves again. */
  forget(agent: string): Promise<void> {
    return this.registry.forget(agent);
  }

  private async takeRate(buckets: readonly RateBucket[], subtaskId: string, reserve: boolean): ReturnType<RateBuckets['take']> {
    try {
      return await this.rates.take(buckets, subtaskId, reserve);
    } catch (error) {
      // Without Redis there is no shared count: as for slots, dispatch rather than stall.
      this.logger.warn(`could not take from rate limits ${buckets.map((b) => b.name).join(', ')}, dispatching anyway: ${(error as Error).message}`);
      return { ok: true };
    }
  }

  private async reserve(agent: string, subtaskId: string, deadlineMs: number, capacity: number): Promise<boolean> {
    try {
      return await this.load.reserve(agent, subtaskId, deadlineMs, capacity);
    } catch (error) {
      // Without Redis there is no shared count: dispatch rather than stall every workflow.
      this.logger.warn(`could not take a slot on ${agent}, dispatching anyway: ${(error as Error).message}`);
      return true;
    }
  }
}
