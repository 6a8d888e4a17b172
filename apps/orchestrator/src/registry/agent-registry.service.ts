import { Inject, Injectable } from '@nestjs/common';
import { RATE_PERIODS_MS, type AgentAnnouncement, type AgentLoad, type AgentStatusView, type RateLimit } from '@orchestrator/contracts';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { AppConfig, parseAgentRates, parseStaticAgents, type StaticAgent } from '../config/app-config.js';
import { AgentRoomSignal } from './agent-room-signal.js';

/** Live instances (`<name>/<instance_id>`), scored by when each last announced itself (ms). */
const INSTANCES = 'orchestrator:agents:seen';
const instanceKey = (member: string): string => `orchestrator:agents:instance:${member}`;

/**
 * Every live instance's stored announcement, read in one step: read in two (the members, then
 * their values), a name whose instances all made room for newer ones in between would be missing
 * from the list, as if it had none. Members whose announcement expired are dropped.
 */
const READ_SCRIPT = `
local members, values = redis.call('ZRANGE', KEYS[1], 0, -1), {}
for _, member in ipairs(members) do
  local value = redis.call('GET', ARGV[1] .. member)
  if value then table.insert(values, value) else redis.call('ZREM', KEYS[1], member) end
end
return values
`;

/** An agent as the registry knows it: the contract's view without the router's load, which GET /agents adds. */
export type AgentView = Omit<AgentStatusView, 'in_flight' | 'load' | 'rate_headroom' | 'waiting'>;

/** Where agents come from besides heartbeats (Consul's catalog, for one). */
export abstract class AgentSource {
  abstract agents(): Promise<{ name: string; capabilities: string[]; max_concurrency: number | null }[]>;
}

/** Instances that made room for a new one, and why: its name had AGENT_INSTANCES_PER_NAME_MAX, the registry AGENT_INSTANCES_MAX instances or AGENT_NAMES_MAX names. */
export interface Eviction {
  reason: 'per_name' | 'instances' | 'names';
  members: string[];
}

/**
 * Takes an instance not seen lately, in one step for every replica: drops the members not seen
 * within the heartbeat window, then makes room when a limit is reached, the newcomer always
 * getting in and the stalest going: past AGENT_INSTANCES_PER_NAME_MAX, its own name's stalest
 * instance; past AGENT_INSTANCES_MAX, the stalest instance of the name holding the most; for a new
 * name past AGENT_NAMES_MAX, every instance of the name heard from least lately. So made-up
 * instances cannot keep a restarting agent out: under NATS permissions an agent announces only
 * under its own name, and fills only its own share. Returns the reason and the members evicted.
 */
const ADMIT_SCRIPT = `
local zset, member, name, value = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local ttl, max_instances, max_names, per_name, prefix, now = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[9])
local function drop(m) redis.call('DEL', prefix .. m); redis.call('ZREM', zset, m) end
local reason, evicted = '', {}
if not redis.call('ZSCORE', zset, member) then
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', zset, '-inf', now - ttl)) do drop(m) end
  local counts, stalest, latest, names, total = {}, {}, {}, 0, 0
  local all = redis.call('ZRANGE', zset, 0, -1, 'WITHSCORES')
  for i = 1, #all, 2 do
    local m, seen = all[i], tonumber(all[i + 1])
    local n = string.match(m, '^([^/]+)/')
    if n then
      if not counts[n] then counts[n] = 0; names = names + 1; stalest[n] = m end
      counts[n] = counts[n] + 1
      latest[n] = seen
      total = total + 1
    end
  end
  local mine = counts[name] or 0
  if mine >= per_name then
    reason = 'per_name'; evicted = { stalest[name] }
  elseif mine == 0 and names >= max_names then
    local quiet, quiet_at = nil, nil
    for n, seen in pairs(latest) do if quiet_at == nil or seen < quiet_at then quiet, quiet_at = n, seen end end
    reason = 'names'
    for i = 1, #all, 2 do if string.match(all[i], '^([^/]+)/') == quiet then table.insert(evicted, all[i]) end end
  elseif total >= max_instances then
    local most = nil
    for n, c in pairs(counts) do if most == nil or c > counts[most] then most = n end end
    reason = 'instances'; evicted = { stalest[most] }
  end
  for _, m in ipairs(evicted) do drop(m) end
end
redis.call('SET', prefix .. member, value, 'PX', ttl)
redis.call('ZADD', zset, now, member)
return { reason, unpack(evicted) }
`;

/** Milliseconds since the epoch, with a fraction: announcements that come within one millisecond keep their order. */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

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
 * from the set of instances at the next read). A new instance past AGENT_INSTANCES_PER_NAME_MAX,
 * AGENT_INSTANCES_MAX or AGENT_NAMES_MAX gets in, and the stalest goes (ADMIT_SCRIPT).
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

  /** Records an announcement (its capacity already capped); returns what was evicted to make room, if anything. */
  async record(announcement: AgentAnnouncement, now = preciseNow()): Promise<Eviction | null> {
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
      // Only while it is still there: an instance evicted meanwhile comes back through admission.
      const [[, updated] = []] = (await this.redis.multi().zadd(INSTANCES, 'XX', 'CH', now, member).set(instanceKey(member), value, 'PX', ttl).exec()) ?? [];
      if (updated === 1) {
        if (capacity > known.capacity) {
          this.seen.set(member, { capacity });
          this.cache = undefined;
          this.room.raise(announcement.name);
        } else if (capacity < known.capacity) {
          this.seen.set(member, { capacity });
        }
        return null;
      }
    }
    const { AGENT_INSTANCES_MAX, AGENT_NAMES_MAX, AGENT_INSTANCES_PER_NAME_MAX } = this.config;
    const [reason, ...members] = (await this.redis.eval(
      ADMIT_SCRIPT,
      1,
      INSTANCES,
      member,
      announcement.name,
      value,
      ttl,
      AGENT_INSTANCES_MAX,
      AGENT_NAMES_MAX,
      AGENT_INSTANCES_PER_NAME_MAX,
      instanceKey(''),
      now,
    )) as string[];
    // A new instance is routed to at once rather than when the cached view expires.
    this.seen.set(member, { capacity });
    this.cache = undefined;
    this.room.raise(announcement.name);
    return reason === 'per_name' || reason === 'instances' || reason === 'names' ? { reason, members } : null;
  }

  async forget(name: string): Promise<void> {
    const members = (await this.redis.zrange(INSTANCES, 0, -1)).filter((member) => member.startsWith(`${name}/`));
    this.cache = undefined;
    if (members.length === 0) return;
    await this.redis.multi().del(...members.map(instanceKey)).zrem(INSTANCES, ...members).exec();
  }

  async list(): Promise<AgentView[]> {
    const values = (await this.redis.eval(READ_SCRIPT, 1, INSTANCES, instanceKey(''))) as string[];
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
