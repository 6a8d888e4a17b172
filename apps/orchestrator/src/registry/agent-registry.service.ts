import { Inject, Injectable } from '@nestjs/common';
import { RATE_PERIODS_MS, type AgentAnnouncement, type AgentLoad, type AgentStatusView, type RateLimit } from '@orchestrator/contracts';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { AppConfig, parseAgentRates, parseStaticAgents, type StaticAgent } from '../config/app-config.js';
import { AgentRoomSignal } from './agent-room-signal.js';

const INSTANCES_SET = 'orchestrator:agents:instances';
const instanceKey = (member: string): string => `orchestrator:agents:instance:${member}`;

/** An agent as the registry knows it: the contract's view without the router's load, which GET /agents adds. */
export type AgentView = Omit<AgentStatusView, 'in_flight' | 'load' | 'rate_headroom' | 'waiting'>;

/** Where agents come from besides heartbeats (Consul's catalog, for one). */
export abstract class AgentSource {
  abstract agents(): Promise<{ name: string; capabilities: string[]; max_concurrency: number | null }[]>;
}

/** Why an announcement was not recorded; null when it was. */
export type AnnouncementRefusal = 'names' | 'instances' | null;

/**
 * Takes an instance not seen lately, in one step for every replica: drops the members whose key has
 * expired, then refuses the instance past AGENT_INSTANCES_MAX (1) or a new name past AGENT_NAMES_MAX
 * (2), else stores it (0). Runs only for instances new to a replica, not at every heartbeat.
 */
const ADMIT_SCRIPT = `
local set, member, name, value = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local ttl, max_instances, max_names, prefix = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
if redis.call('SISMEMBER', set, member) == 0 then
  local names, count, known = {}, 0, false
  for _, m in ipairs(redis.call('SMEMBERS', set)) do
    if redis.call('EXISTS', prefix .. m) == 0 then
      redis.call('SREM', set, m)
    else
      local n = string.match(m, '^([^/]+)/')
      if n == name then known = true end
      if n and not names[n] then names[n] = true; count = count + 1 end
    end
  end
  if redis.call('SCARD', set) >= max_instances then return 1 end
  if not known and count >= max_names then return 2 end
end
redis.call('SET', prefix .. member, value, 'PX', ttl)
redis.call('SADD', set, member)
return 0
`;

/** How long a read of the registry is reused: routing reads it for every dispatch. */
const CACHE_MS = 250;

interface StoredInstance {
  name: string;
  instance_id: string;
  agent_type: string;
  capabilities: string[];
  load: AgentLoad | null;
  rate_limit?: RateLimit | null;
  last_seen_ms: number;
}

/** The stricter of two rate limits: the one that allows fewer sub-tasks per millisecond. */
function stricter(a: RateLimit | null, b: RateLimit | null): RateLimit | null {
  if (!a || !b) return a ?? b;
  return a.limit / RATE_PERIODS_MS[a.per] <= b.limit / RATE_PERIODS_MS[b.per] ? a : b;
}

/**
 * Live agent instances, shared by every replica through Redis. An instance is stored with an
 * expiry of the heartbeat window, so one that stops announcing itself disappears by itself (and
 * from the set of instances at the next read). New names and instances are taken only below
 * AGENT_NAMES_MAX and AGENT_INSTANCES_MAX.
 */
@Injectable()
export class AgentRegistryService {
  private staticAgents: { source: string; agents: StaticAgent[] } = { source: '', agents: [] };
  private configuredRates: Map<string, RateLimit> | undefined;
  private cache: { at: number; agents: Promise<AgentView[]> } | undefined;
  private readonly sources: AgentSource[] = [];
  /**
   * Instances announced lately, with the capacity each announced, to route to a new one (or to more
   * room) at once; bounded, whatever names clients announce.
   */
  private readonly seen = new LRUCache<string, { capacity: number }>({ max: 10_000 });

  constructor(
    @Inject(Redis) private readonly redis: Redis,
    private readonly config: AppConfig,
    private readonly room: AgentRoomSignal,
  ) {}

  /** STATIC_AGENTS as it is now (Consul's settings may change it while the service runs). */
  private declaredAgents(): StaticAgent[] {
    const source = this.config.STATIC_AGENTS ?? '';
    if (source !== this.staticAgents.source) {
      const parsed = source ? parseStaticAgents(source) : [];
      this.staticAgents = { source, agents: typeof parsed === 'string' ? [] : parsed };
    }
    return this.staticAgents.agents;
  }

  /** AGENT_RATE_LIMITS, by agent: over what agents announce. */
  private rates(): Map<string, RateLimit> {
    if (!this.configuredRates) {
      const parsed = parseAgentRates(this.config.AGENT_RATE_LIMITS ?? '');
      this.configuredRates = typeof parsed === 'string' ? new Map() : parsed;
    }
    return this.configuredRates;
  }

  /** Adds agents from elsewhere (e.g. Consul) to every listing. */
  addSource(source: AgentSource): void {
    this.sources.push(source);
  }

  /** The live agents, heartbeats and static ones together, read at most every CACHE_MS. */
  async live(): Promise<AgentView[]> {
    const now = Date.now();
    if (!this.cache || now - this.cache.at > CACHE_MS) {
      const agents = this.list();
      this.cache = { at: now, agents };
      agents.catch(() => (this.cache = undefined));
    }
    return this.cache.agents;
  }

  async record(announcement: AgentAnnouncement, now = Date.now()): Promise<AnnouncementRefusal> {
    const member = `${announcement.name}/${announcement.instance_id}`;
    const stored: StoredInstance = {
      name: announcement.name,
      instance_id: announcement.instance_id,
      agent_type: announcement.agent_type,
      capabilities: announcement.capabilities,
      load: announcement.load ?? null,
      rate_limit: announcement.rate_limit ?? null,
      last_seen_ms: now,
    };
    const value = JSON.stringify(stored);
    const ttl = this.config.AGENT_HEARTBEAT_TTL_MS;
    const capacity = announcement.load?.max_concurrency ?? 0;
    const known = this.seen.get(member);
    if (known) {
      await this.redis.multi().set(instanceKey(member), value, 'PX', ttl).sadd(INSTANCES_SET, member).exec();
      if (capacity > known.capacity) {
        this.seen.set(member, { capacity });
        this.cache = undefined;
        this.room.raise(announcement.name);
      } else if (capacity < known.capacity) {
        this.seen.set(member, { capacity });
      }
      return null;
    }
    const { AGENT_INSTANCES_MAX, AGENT_NAMES_MAX } = this.config;
    const outcome = (await this.redis.eval(ADMIT_SCRIPT, 1, INSTANCES_SET, member, announcement.name, value, ttl, AGENT_INSTANCES_MAX, AGENT_NAMES_MAX, instanceKey(''))) as number;
    if (outcome === 1) return 'instances';
    if (outcome === 2) return 'names';
    // A new instance is routed to at once rather than when the cached view expires.
    this.seen.set(member, { capacity });
    this.cache = undefined;
    this.room.raise(announcement.name);
    return null;
  }

  async forget(name: string): Promise<void> {
    const members = (await this.redis.smembers(INSTANCES_SET)).filter((member) => member.startsWith(`${name}/`));
    this.cache = undefined;
    if (members.length === 0) return;
    await this.redis.multi().del(...members.map(instanceKey)).srem(INSTANCES_SET, ...members).exec();
  }

  async list(): Promise<AgentView[]> {
    const members = await this.redis.smembers(INSTANCES_SET);
    const values = members.length === 0 ? [] : await this.redis.mget(members.map(instanceKey));
    const gone = members.filter((_, index) => values[index] === null);
    if (gone.length > 0) await this.redis.srem(INSTANCES_SET, ...gone);
    const byName = new Map<string, AgentView>();
    const declared = [...this.declaredAgents()];
    for (const source of this.sources) {
      try {
        declared.push(...(await source.agents()));
      } catch {
        // A source that cannot be read leaves its agents out until it can.
      }
    }
    for (const agent of declared) {
      const known = byName.get(agent.name);
      byName.set(agent.name, {
        name: agent.name,
        capabilities: [...new Set([...(known?.capabilities ?? []), ...agent.capabilities])].sort(),
        static: true,
        capacity: agent.max_concurrency,
        reported_in_flight: 0,
        instances: [],
        rate_limit: null,
      });
    }
    for (const value of values) {
      if (value === null) continue;
      const stored = JSON.parse(value) as StoredInstance;
      const agent = byName.get(stored.name) ?? {
        name: stored.name,
        capabilities: [],
        static: false,
        capacity: null,
        reported_in_flight: 0,
        instances: [],
        rate_limit: null,
      };
      if (!agent.static && stored.load) {
        agent.capacity = (agent.capacity ?? 0) + stored.load.max_concurrency;
        agent.reported_in_flight += stored.load.in_flight;
      }
      agent.instances.push({
        instance_id: stored.instance_id,
        agent_type: stored.agent_type,
        capabilities: stored.capabilities,
        load: stored.load,
        last_seen: new Date(stored.last_seen_ms).toISOString(),
      });
      agent.capabilities = [...new Set([...agent.capabilities, ...stored.capabilities])].sort();
      agent.rate_limit = stricter(agent.rate_limit, stored.rate_limit ?? null);
      byName.set(stored.name, agent);
    }
    const rates = this.rates();
    for (const agent of byName.values()) agent.rate_limit = rates.get(agent.name) ?? agent.rate_limit;
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
