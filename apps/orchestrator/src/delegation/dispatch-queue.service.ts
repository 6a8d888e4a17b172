import { Inject, Injectable, Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config.js';
import { LEAVE, RELEASE_AND_PUMP, RESERVE_OR_WAIT, RESTORE } from './dispatch-queue.scripts.js';

/** A line of waiting steps: those of a named agent (and its fallbacks), or of a capability. */
export type QueueKey = string;

/** The line of steps that go to these agents (the first, or the next ones in turn). */
export const agentsQueue = (agents: readonly string[]): QueueKey => `a:${agents.join(',')}`;
/** The line of steps any agent offering this capability may take. */
export const capabilityQueue = (capability: string): QueueKey => `c:${capability}`;

/** The agents that serve a named-agent line (a capability line is served by whoever offers it). */
export function agentsOfQueue(queue: QueueKey): string[] {
  return queue.startsWith('a:') ? queue.slice(2).split(',') : [];
}

/** Who asks for a slot, and where it waits in line if there is none. */
export interface SlotRequest {
  /** The sub-task id of the attempt: `<row id>:<attempt>`. */
  member: string;
  /** Its workflow's root: whoever pops it locks that workflow (its row may not be committed yet). */
  rootId: string;
  /** 0 (CRITICAL) to 3 (LOW). */
  priority: number;
  /** Whose turn it is: steps of one key take turns with those of every other. */
  fairnessKey: string;
  queue: QueueKey;
  deadlineMs: number;
  /** False: a free slot or nothing (another candidate without a capacity takes it otherwise). */
  mayWait: boolean;
}

/** A waiting sub-task popped into a slot of `agent`: its step is to be dispatched there. */
export interface Claim {
  member: string;
  rootId: string;
  agent: string;
  queue: QueueKey;
  /** How long it waited, ms. */
  waitedMs: number;
  fairnessKey: string;
}

export type SlotOutcome =
  | { kind: 'slot'; agent: string; claims: Claim[] }
  | { kind: 'waiting'; rank: number; claims: Claim[] };

/** A waiting step as the database keeps it, to put back in its line. */
export interface WaitingStep {
  queue: QueueKey;
  member: string;
  rootId: string;
  rank: number;
  fairnessKey: string;
}

type Script = (...args: (string | number)[]) => Promise<unknown>;

/** The most sub-tasks popped for an agent with no known capacity at one time. */
const UNBOUNDED_POP = 100;

/**
 * Agents' slots and the lines of steps waiting for them, shared by every replica in Redis (see
 * dispatch-queue.scripts.ts). A slot that frees goes at once to the next step in line, popped by
 * exactly one replica, which dispatches it; a step that cannot have a slot waits in line, ranked
 * by priority and then round-robin across fairness keys. The database keeps each waiting step's
 * line and rank, so a line Redis lost is put back (`restore`).
 */
@Injectable()
export class DispatchQueue {
  private readonly logger = new Logger(DispatchQueue.name);

  constructor(
    @Inject(Redis) private readonly redis: Redis,
    private readonly config: AppConfig,
  ) {
    this.redis.defineCommand('orchestratorReserveOrWait', { numberOfKeys: 0, lua: RESERVE_OR_WAIT });
    this.redis.defineCommand('orchestratorReleaseAndPump', { numberOfKeys: 0, lua: RELEASE_AND_PUMP });
    this.redis.defineCommand('orchestratorLeave', { numberOfKeys: 0, lua: LEAVE });
    this.redis.defineCommand('orchestratorRestore', { numberOfKeys: 0, lua: RESTORE });
  }

  private script(name: string): Script {
    const fn = (this.redis as unknown as Record<string, Script>)[name];
    if (!fn) throw new Error(`Redis script ${name} is not defined`);
    return (...args) => fn.apply(this.redis, args);
  }

  /**
   * A slot on the first of `candidates` (in order) with room, unless steps wait in line before it:
   * then it waits in line too, and the line moves into whatever room there is. Throws when Redis
   * cannot be reached.
   */
  async reserveOrWait(request: SlotRequest, candidates: readonly { name: string; capacity: number }[]): Promise<SlotOutcome> {
    const now = Date.now();
    // Who serves the line: its named agents, and the candidates a capability has now.
    const serving = [...new Set([...agentsOfQueue(request.queue), ...candidates.map((c) => c.name)])];
    const out = (await this.script('orchestratorReserveOrWait')(
      now,
      request.deadlineMs,
      request.member,
      request.rootId,
      request.priority,
      request.fairnessKey,
      request.queue,
      now + this.config.DISPATCH_CLAIM_LEASE_MS,
      request.mayWait ? 1 : 0,
      candidates.length,
      ...candidates.map((c) => c.name),
      ...candidates.map((c) => c.capacity),
      ...serving,
    )) as (string | number)[];
    const index = Number(out[0]);
    const claims = parseClaims(out.slice(2), now);
    const agent = index > 0 ? candidates[index - 1]?.name : undefined;
    return agent ? { kind: 'slot', agent, claims } : { kind: 'waiting', rank: Number(out[1]), claims };
  }

  /**
   * Frees the slot of `member` (when given) and moves the agent's lines into the room. `agent`
   * null: the slot's holder, whoever it is; `sender`: only if the slot is that agent's (an answer
   * frees its own slot only). `capabilityLines`: the lines of the capabilities the agent offers.
   */
  async release(member: string | null, agent: string | null, options: { sender?: string; capacity?: number | null; capabilityLines?: readonly QueueKey[] } = {}): Promise<Claim[]> {
    const now = Date.now();
    const out = (await this.script('orchestratorReleaseAndPump')(
      now,
      member ?? '',
      agent ?? '',
      options.sender ?? '',
      now + this.config.DISPATCH_CLAIM_LEASE_MS,
      options.capacity === undefined ? '' : (options.capacity ?? -1),
      UNBOUNDED_POP,
      ...(options.capabilityLines ?? []),
    )) as (string | number)[];
    return parseClaims(out, now);
  }

  /** Takes steps that stopped waiting (cancelled, their workflow ended) out of their lines. */
  async leave(waiting: readonly { queue: QueueKey; member: string }[]): Promise<void> {
    if (waiting.length === 0) return;
    await this.script('orchestratorLeave')(...waiting.flatMap((w) => [w.queue, w.member]));
  }

  /** Puts waiting steps back in their lines, unless they are there or hold a slot; returns how many went back. */
  async restore(waiting: readonly WaitingStep[]): Promise<number> {
    if (waiting.length === 0) return 0;
    const args = waiting.flatMap((w) => {
      const serving = agentsOfQueue(w.queue);
      return [w.queue, w.member, w.rootId, w.rank, w.fairnessKey, serving.length, ...serving];
    });
    return Number(await this.script('orchestratorRestore')(Date.now(), ...args));
  }

  /** How many steps wait in each line, and per fairness key (the largest `topKeys` of each line). */
  async depths(topKeys = 20): Promise<{ queue: QueueKey; waiting: number; keys: { key: string; waiting: number }[] }[]> {
    const queues = await this.redis.smembers('orchestrator:queues');
    if (queues.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const queue of queues) pipeline.zcard(`orchestrator:queue:${queue}`).hgetall(`orchestrator:queue-fair:${queue}`);
    const results = (await pipeline.exec()) ?? [];
    return queues.map((queue, i) => {
      const fair = (results[2 * i + 1]?.[1] ?? {}) as Record<string, string>;
      const keys = Object.entries(fair)
        .filter(([field]) => field.startsWith('n:'))
        .map(([field, n]) => ({ key: field.slice(2), waiting: Number(n) }))
        .filter((k) => k.waiting > 0)
        .sort((a, b) => b.waiting - a.waiting)
        .slice(0, topKeys);
      return { queue, waiting: Number(results[2 * i]?.[1] ?? 0), keys };
    });
  }

  /** Logs and swallows what Redis could not do: a line that missed a move is moved again by the next pass. */
  warn(what: string, error: unknown): void {
    this.logger.warn(`${what}: ${(error as Error).message}`);
  }
}

function parseClaims(flat: readonly (string | number)[], now: number): Claim[] {
  const claims: Claim[] = [];
  for (let i = 0; i + 3 < flat.length; i += 4) {
    const [enqueued = '0', rootId = '', ...key] = String(flat[i + 3]).split('|');
    claims.push({
      member: String(flat[i]),
      rootId,
      agent: String(flat[i + 1]),
      queue: String(flat[i + 2]),
      waitedMs: Number(enqueued) > 0 ? Math.max(0, now - Number(enqueued)) : 0,
      fairnessKey: key.join('|'),
    });
  }
  return claims;
}
