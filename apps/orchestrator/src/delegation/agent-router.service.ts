import { Injectable, Logger } from '@nestjs/common';
import type { PlannedStep } from '../planning/plan.js';
import { AgentLoadService, loadRatio } from '../registry/agent-load.service.js';
import { AgentRegistryService, type AgentView } from '../registry/agent-registry.service.js';
import { agentBucket, RateBuckets, type RateBucket } from '../registry/rate-buckets.service.js';
import { capabilityQueue, agentsQueue, DispatchQueue, type Claim, type QueueKey, type SlotOutcome } from './dispatch-queue.service.js';

/**
 * `no-candidate`: nothing can do the step now (it waits up to its timeout);
 * `at-capacity`: every candidate is busy (it waits for a slot, however long);
 * either way it waits in `queue` at `rank`.
 * `rate-limited`: the step's rate limit, or every candidate's, is used up (it waits until `retryAtMs`).
 * `claims`: steps of other workflows that the move of a line put into slots, to dispatch once this
 * transition commits.
 */
export type Route =
  /** `reserved`: a slot was taken on the agent (it has a known capacity), to give back when the attempt ends. */
  | { kind: 'agent'; agent: string; reserved: boolean; claims: Claim[] }
  | { kind: 'wait'; why: 'no-candidate' | 'at-capacity'; reason: string; queue: QueueKey; rank: number; claims: Claim[] }
  | { kind: 'wait'; why: 'rate-limited'; reason: string; retryAtMs: number; scope: 'agent' | 'step'; claims: Claim[] };

/** Who asks for an agent: the attempt's sub-task id, its deadline, and its place in a line if it must wait. */
export interface RouteTicket {
  member: string;
  rootId: string;
  deadlineMs: number;
  priority: number;
  fairnessKey: string;
  /** The step's own rate limit, taken with the agent's. */
  stepRate?: RateBucket | null;
}

/** Capacity assumed for an agent that reports none, to rank it against agents that do. */
const NOMINAL_CAPACITY = 100;

/**
 * Picks the agent for one attempt of a step and takes a slot on it.
 * - A step naming an agent goes to it, or to its fallbacks in turn on later attempts.
 * - A step naming a capability goes to the least loaded live agent offering it: load is the larger
 *   of the orchestrator's own count of sub-tasks in flight (shared in Redis) and the agent's
 *   reported in_flight, over its max_concurrency; ties are broken at random.
 * An agent at its capacity gets nothing more: the step waits in line (DispatchQueue), and gets
 * the next slot that frees in its turn. The agent that failed the previous attempt is left out
 * when there is another candidate. An agent whose rate limit is used up is passed over for one
 * with room; the step's own rate limit is taken with the agent's.
 */
@Injectable()
export class AgentRouter {
  private readonly logger = new Logger(AgentRouter.name);

  constructor(
    private readonly registry: AgentRegistryService,
    private readonly load: AgentLoadService,
    private readonly queue: DispatchQueue,
    private readonly rates: RateBuckets,
  ) {}

  async route(step: PlannedStep, attempt: number, previousAgent: string | null, ticket: RouteTicket): Promise<Route> {
    const agents = await this.registry.live().catch((error: unknown) => {
      this.logger.warn(`agent registry unavailable, routing without it: ${(error as Error).message}`);
      return [] as AgentView[];
    });
    const byName = new Map(agents.map((agent) => [agent.name, agent]));
    let ordered: string[];
    let line: QueueKey;
    if (step.capability !== null) {
      const capability = step.capability;
      line = capabilityQueue(capability);
      const offering = agents.filter((agent) => agent.capabilities.includes(capability)).map((agent) => agent.name);
      const candidates = [...new Set([...(step.agent ? [step.agent] : []), ...offering, ...step.fallbacks])];
      if (candidates.length === 0) {
        const waiting = await this.wait(ticket, line, []);
        return { kind: 'wait', why: 'no-candidate', reason: `no live agent offers "${capability}"`, queue: line, ...waiting };
      }
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
      line = agentsQueue([...named].sort());
    }
    // A retry goes to another candidate than the one that just failed it, when there is one.
    if (previousAgent !== null && ordered.length > 1) ordered = ordered.filter((name) => name !== previousAgent);
    // Rate limits first: a candidate whose limit (or the step's) is used up is passed over.
    const stepRate = ticket.stepRate ?? null;
    const allowed: { name: string; buckets: RateBucket[] }[] = [];
    const limited = { retryAtMs: Infinity, agents: [] as string[] };
    for (const [i, name] of ordered.entries()) {
      const rate = byName.get(name)?.rate_limit ?? null;
      const buckets = [...(rate ? [agentBucket(name, rate)] : []), ...(stepRate ? [stepRate] : [])];
      // Only the last candidate keeps a turn for the step when there is no room: another may still take it now.
      const taken = buckets.length === 0 ? ({ ok: true } as const) : await this.takeRate(buckets, ticket.member, i === ordered.length - 1 && allowed.length === 0);
      if (taken.ok) {
        allowed.push({ name, buckets });
        continue;
      }
      const retryAtMs = Date.now() + taken.retryAfterMs;
      if (taken.bucket === stepRate) {
        await this.refund(allowed.flatMap((a) => a.buckets));
        return { kind: 'wait', why: 'rate-limited', scope: 'step', retryAtMs, claims: [], reason: `the step's rate limit (${stepRate.limit} per ${stepRate.windowMs} ms) is used up` };
      }
      limited.retryAtMs = Math.min(limited.retryAtMs, retryAtMs);
      limited.agents.push(name);
    }
    if (allowed.length === 0) {
      const { agents, retryAtMs } = limited;
      return { kind: 'wait', why: 'rate-limited', scope: 'agent', retryAtMs, claims: [], reason: `the rate limit of ${agents.length === 1 ? `agent ${agents[0] ?? ''} is` : `agents ${agents.join(', ')} are`} used up` };
    }
    const candidates = allowed.map((a) => a.name);
    // Turns taken on the limits of candidates that do not get the step go back.
    const refundBut = (chosen: string | null): Promise<void> => this.refund(allowed.filter((a) => a.name !== chosen).flatMap((a) => a.buckets));
    // An agent without a known capacity has no limit to keep: no slot to take, no line to wait in.
    const unbounded = candidates.findIndex((name) => (byName.get(name)?.capacity ?? null) === null);
    if (unbounded === 0) {
      await refundBut(candidates[0] ?? null);
      return { kind: 'agent', agent: candidates[0], reserved: false, claims: [] };
    }
    const bounded = (unbounded < 0 ? candidates : candidates.slice(0, unbounded)).map((name) => ({ name, capacity: byName.get(name)?.capacity ?? 0 }));
    let outcome: SlotOutcome;
    try {
      outcome = await this.queue.reserveOrWait({ ...ticket, queue: line, mayWait: unbounded < 0 }, bounded);
    } catch (error) {
      // Without Redis there is no shared count: dispatch rather than stall every workflow.
      this.logger.warn(`could not take a slot on ${candidates[0] ?? '?'}, dispatching anyway: ${(error as Error).message}`);
      return { kind: 'agent', agent: candidates[0], reserved: false, claims: [] };
    }
    if (outcome.kind === 'slot') {
      await refundBut(outcome.agent);
      return { kind: 'agent', agent: outcome.agent, reserved: true, claims: outcome.claims };
    }
    if (unbounded > 0) {
      await refundBut(candidates[unbounded] ?? null);
      return { kind: 'agent', agent: candidates[unbounded], reserved: false, claims: outcome.claims };
    }
    // Waiting in line: its turn on the limits is taken again when a slot comes.
    await refundBut(null);
    return {
      kind: 'wait',
      why: 'at-capacity',
      queue: line,
      rank: outcome.rank,
      claims: outcome.claims,
      reason: ordered.length === 1 ? `agent ${ordered[0] ?? ''} is at capacity` : `agents ${ordered.join(', ')} are at capacity`,
    };
  }

  /** Waits in a line no agent serves now; an agent that comes to offer its capability takes it. */
  private async wait(ticket: RouteTicket, line: QueueKey, claims: Claim[]): Promise<{ rank: number; claims: Claim[] }> {
    try {
      const outcome = await this.queue.reserveOrWait({ ...ticket, queue: line, mayWait: true }, []);
      return { rank: outcome.kind === 'waiting' ? outcome.rank : 0, claims: [...claims, ...outcome.claims] };
    } catch (error) {
      // Without Redis the step is found again when its time to wait is up.
      this.logger.warn(`could not put a step in line ${line}: ${(error as Error).message}`);
      return { rank: 0, claims };
    }
  }

  /**
   * The slot of `subtaskId` on `agent` frees and the agent's lines move into the room; returns the
   * steps popped into slots, to dispatch.
   */
  async release(agent: string | null, subtaskId: string | null, sender?: string): Promise<Claim[]> {
    const view = agent === null ? undefined : (await this.registry.live().catch(() => [] as AgentView[])).find((a) => a.name === agent);
    try {
      return await this.queue.release(subtaskId, agent, {
        ...(sender ? { sender } : {}),
        ...(view ? { capacity: view.capacity, capabilityLines: view.capabilities.map(capabilityQueue) } : {}),
      });
    } catch (error) {
      // The slot frees itself at its deadline; the lines move at the next pass.
      this.logger.warn(`could not release ${subtaskId ?? 'a slot'} of ${agent ?? '?'}: ${(error as Error).message}`);
      return [];
    }
  }

  /** Moves every live agent's lines into the room it has: the pass that catches what a lost message missed. */
  async pumpAll(): Promise<Claim[]> {
    const agents = await this.registry.live();
    const claims = await Promise.all(agents.map((agent) => this.release(agent.name, null)));
    return claims.flat();
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

  private async refund(buckets: readonly RateBucket[]): Promise<void> {
    if (buckets.length > 0) await this.rates.refund(buckets).catch(() => undefined);
  }
}
