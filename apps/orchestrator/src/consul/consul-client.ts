/**
 * The few endpoints of Consul's HTTP API (v1) the orchestrator calls, over `fetch`: the local
 * agent's service registration, the catalog and health of services, the leader, and KV reads
 * with blocking queries. https://developer.hashicorp.com/consul/api-docs
 */

/** `PUT /v1/agent/service/register`, in Consul's own casing. */
export interface ServiceRegistration {
  Name: string;
  ID: string;
  Address?: string;
  Port?: number;
  Tags?: string[];
  Check?: {
    Name?: string;
    HTTP?: string;
    Interval?: string;
    Timeout?: string;
    TTL?: string;
    DeregisterCriticalServiceAfter?: string;
  };
}

/** One entry of `GET /v1/kv/<key>`, its value decoded from base64 (null for a key with no value). */
export interface KvEntry {
  Key: string;
  Value: string | null;
  ModifyIndex: number;
}

/** A read with its `X-Consul-Index`, which a blocking query waits past. */
export interface Indexed<T> {
  index: number;
  value: T;
}

export interface KvGetOptions {
  recurse?: boolean;
  /** Blocking query: answer once the index passes this one, or after `wait`. */
  index?: number;
  /** How long Consul may hold a blocking query, e.g. `5m` (Consul adds up to 1/16 of it). */
  wait?: string;
  signal?: AbortSignal;
}

export interface ConsulClientOptions {
  /** The agent's HTTP API, e.g. http://127.0.0.1:8500. */
  url: string;
  /** An ACL token, sent as X-Consul-Token. */
  token?: string;
  /** How long a request other than a blocking query may take. */
  timeoutMs?: number;
}

/** A request Consul answered with an error status, or that did not reach it. */
export class ConsulError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'ConsulError';
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** A blocking query may be held for `wait` plus up to 1/16 of it; give the answer this much more to arrive. */
const BLOCKING_GRACE_MS = 10_000;

export class ConsulClient {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: ConsulClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async registerService(registration: ServiceRegistration): Promise<void> {
    await this.request('PUT', '/v1/agent/service/register', { body: registration });
  }

  async deregisterService(id: string): Promise<void> {
    await this.request('PUT', `/v1/agent/service/deregister/${encodeURIComponent(id)}`);
  }

  /** The Raft leader's address; an empty string when the cluster has none. */
  async leader(): Promise<string> {
    return (await this.request<string>('GET', '/v1/status/leader')).value;
  }

  /** Every service of the catalog with the union of its instances' tags. */
  async catalogServices(): Promise<Record<string, string[]>> {
    return (await this.request<Record<string, string[]>>('GET', '/v1/catalog/services')).value;
  }

  /** The instances of a service with their checks; with `passing`, only those whose checks all pass. */
  async healthService(name: string, options: { passing?: boolean } = {}): Promise<unknown[]> {
    const query: Record<string, string> = options.passing ? { passing: 'true' } : {};
    return (await this.request<unknown[]>('GET', `/v1/health/service/${encodeURIComponent(name)}`, { query })).value;
  }

  /** The entries under `key` (or the key itself); none when it does not exist (Consul answers 404). */
  async kvGet(key: string, options: KvGetOptions = {}): Promise<Indexed<KvEntry[]>> {
    const query: Record<string, string> = {};
    if (options.recurse) query['recurse'] = 'true';
    if (options.index !== undefined && options.index > 0) query['index'] = String(options.index);
    if (options.wait !== undefined) query['wait'] = options.wait;
    const timeoutMs = options.index !== undefined ? durationMs(options.wait ?? '5m') * (17 / 16) + BLOCKING_GRACE_MS : this.timeoutMs;
    const answer = await this.request<RawKvEntry[]>('GET', `/v1/kv/${key.split('/').map(encodeURIComponent).join('/')}`, {
      query,
      timeoutMs,
      signal: options.signal,
      missing: [],
    });
    const entries = answer.value.map((entry) => ({
      Key: entry.Key,
      Value: entry.Value === null ? null : Buffer.from(entry.Value, 'base64').toString('utf8'),
      ModifyIndex: entry.ModifyIndex,
    }));
    return { index: answer.index, value: entries };
  }

  private async request<T>(
    method: 'GET' | 'PUT',
    path: string,
    options: { query?: Record<string, string>; body?: unknown; timeoutMs?: number; signal?: AbortSignal | undefined; missing?: T } = {},
  ): Promise<Indexed<T>> {
    const url = new URL(this.base + path);
    for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers['x-consul-token'] = this.options.token;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? null : JSON.stringify(options.body),
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      });
    } catch (error) {
      const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      throw new ConsulError(`Consul ${method} ${path}: ${cause}`, null);
    }
    const index = Number(response.headers.get('x-consul-index') ?? '0');
    const text = await response.text();
    if (response.status === 404 && options.missing !== undefined) return { index, value: options.missing };
    if (!response.ok) throw new ConsulError(`Consul ${method} ${path}: ${response.status} ${text.slice(0, 200)}`.trim(), response.status);
    return { index, value: (text === '' ? undefined : JSON.parse(text)) as T };
  }
}

interface RawKvEntry {
  Key: string;
  Value: string | null;
  ModifyIndex: number;
}

/** A Consul duration (`250ms`, `5s`, `5m`) in milliseconds. */
export function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`not a Consul duration: "${text}" (e.g. 5s, 5m)`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}
