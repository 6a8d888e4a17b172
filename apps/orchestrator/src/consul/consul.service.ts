import { hostname } from 'node:os';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { isAgentName, ORCHESTRATOR_AGENT_NAME, TASK_TYPE_PATTERN } from '@orchestrator/contracts';
import { AppConfig } from '../config/app-config.js';
import { ConsulClient, type KvEntry } from './consul-client.js';
import { watchKv } from './kv-watch.js';

export const SETTINGS_PREFIX = `config/${ORCHESTRATOR_AGENT_NAME}/`;
const AGENT_TAG = 'agent';
const CAPABILITY_TAG = 'capability:';
const MAX_CONCURRENCY_TAG = 'max_concurrency:';
/** How long a read of the catalog is reused. */
const CATALOG_CACHE_MS = 2_000;
/** How long Consul holds each blocking query of the settings watch. */
const WATCH_WAIT = '5m';

export interface ConsulAgent {
  name: string;
  capabilities: string[];
  max_concurrency: number | null;
}

/**
 * Consul, when CONSUL_URL is set: this replica registers itself with a readiness check and
 * deregisters on shutdown; services tagged `agent` (with `capability:<task_type>` tags) are
 * routing candidates; settings under `config/orchestrator_agent/` in the KV store are read and watched.
 */
@Injectable()
export class ConsulService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ConsulService.name);
  private readonly consul: ConsulClient | null;
  readonly serviceId: string;
  private catalog: { at: number; agents: Promise<ConsulAgent[]> } | undefined;

  constructor(private readonly config: AppConfig) {
    const replica = (config.INSTANCE_ID ?? `${hostname()}-${process.pid}`).toLowerCase().replace(/[^a-z0-9_-]/g, '-');
    this.serviceId = `${ORCHESTRATOR_AGENT_NAME}-${replica}`;
    if (!config.CONSUL_URL) {
      this.consul = null;
      return;
    }
    this.consul = new ConsulClient({ url: config.CONSUL_URL, ...(config.CONSUL_TOKEN ? { token: config.CONSUL_TOKEN } : {}) });
  }

  get enabled(): boolean {
    return this.consul !== null;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.consul) return;
    const address = this.config.CONSUL_SERVICE_ADDRESS;
    await this.consul.registerService({
      Name: ORCHESTRATOR_AGENT_NAME,
      ID: this.serviceId,
      Address: address,
      Port: this.config.PORT,
      Tags: ['orchestrator'],
      Check: {
        Name: `${ORCHESTRATOR_AGENT_NAME} readiness`,
        HTTP: `http://${address}:${this.config.PORT}/health/ready`,
        Interval: '10s',
        Timeout: '3s',
        DeregisterCriticalServiceAfter: '1m',
      },
    });
    this.logger.log(`registered in Consul as ${this.serviceId}`);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.consul) return;
    try {
      await this.consul.deregisterService(this.serviceId);
      this.logger.log(`deregistered ${this.serviceId} from Consul`);
    } catch (error) {
      // Consul removes it anyway once its check has been critical for a minute.
      this.logger.warn(`could not deregister from Consul: ${(error as Error).message}`);
    }
  }

  async ping(): Promise<void> {
    if (!this.consul) return;
    // A cluster without a leader answers reads with errors or stale data.
    if ((await this.consul.leader()) === '') throw new Error('Consul has no leader');
  }

  /** Services tagged `agent` with a passing check, as routing candidates. */
  agents(): Promise<ConsulAgent[]> {
    if (!this.consul) return Promise.resolve([]);
    const now = Date.now();
    if (!this.catalog || now - this.catalog.at > CATALOG_CACHE_MS) {
      const agents = this.readCatalog(this.consul);
      this.catalog = { at: now, agents };
      agents.catch(() => (this.catalog = undefined));
    }
    return this.catalog.agents;
  }

  /** Settings under `config/orchestrator_agent/`, by their last path segment. */
  async readSettings(): Promise<Record<string, string>> {
    if (!this.consul) return {};
    return toSettings((await this.consul.kvGet(SETTINGS_PREFIX, { recurse: true })).value);
  }

  /** Calls `onChange` with all the settings whenever they change; returns a function that stops watching. */
  watchSettings(onChange: (settings: Record<string, string>) => void): () => void {
    if (!this.consul) return () => undefined;
    return watchKv(this.consul, SETTINGS_PREFIX, (entries) => onChange(toSettings(entries)), {
      wait: WATCH_WAIT,
      onError: (error) => this.logger.warn(`watching Consul settings: ${error.message}`),
    });
  }

  private async readCatalog(consul: ConsulClient): Promise<ConsulAgent[]> {
    const services = await consul.catalogServices();
    const agents: ConsulAgent[] = [];
    for (const [name, tags] of Object.entries(services)) {
      if (!tags.includes(AGENT_TAG) || !isAgentName(name)) continue;
      const healthy = await consul.healthService(name, { passing: true });
      if (healthy.length === 0) continue;
      const capabilities = tags
        .filter((tag) => tag.startsWith(CAPABILITY_TAG))
        .map((tag) => tag.slice(CAPABILITY_TAG.length))
        .filter((capability) => TASK_TYPE_PATTERN.test(capability));
      const max = Number(tags.find((tag) => tag.startsWith(MAX_CONCURRENCY_TAG))?.slice(MAX_CONCURRENCY_TAG.length));
      agents.push({ name, capabilities, max_concurrency: Number.isInteger(max) && max > 0 ? max * healthy.length : null });
    }
    return agents;
  }
}

function toSettings(entries: KvEntry[]): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const entry of entries) {
    const key = entry.Key.slice(SETTINGS_PREFIX.length);
    if (key && !key.includes('/') && entry.Value !== null) settings[key] = entry.Value;
  }
  return settings;
}
