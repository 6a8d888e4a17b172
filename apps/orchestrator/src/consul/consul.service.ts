import { hostname } from 'node:os';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { isAgentName, ORCHESTRATOR_AGENT_NAME, TASK_TYPE_PATTERN } from '@orchestrator/contracts';
import Consul from 'consul';
import { AppConfig } from '../config/app-config.js';

export const SETTINGS_PREFIX = `config/${ORCHESTRATOR_AGENT_NAME}/`;
const AGENT_TAG = 'agent';
const CAPABILITY_TAG = 'capability:';
const MAX_CONCURRENCY_TAG = 'max_concurrency:';
/** How long a read of the catalog is reused. */
const CATALOG_CACHE_MS = 2_000;
/** Pause before watching the settings again when the client gave up on a watch. */
const WATCH_RESTART_MS = 5_000;

export interface ConsulAgent {
  name: string;
  capabilities: string[];
  max_concurrency: number | null;
}

interface KvEntry {
  Key: string;
  Value: string | null;
}

/**
 * Consul, when CONSUL_URL is set: this replica registers itself with a readiness check and
 * deregisters on shutdown; services tagged `agent` (with `capability:<task_type>` tags) are
 * routing candidates; settings under `config/orchestrator_agent/` in the KV store are read and watched.
 */
@Injectable()
export class ConsulService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ConsulService.name);
  private readonly consul: Consul | null;
  readonly serviceId: string;
  private catalog: { at: number; agents: Promise<ConsulAgent[]> } | undefined;

  constructor(private readonly config: AppConfig) {
    const replica = (config.INSTANCE_ID ?? `${hostname()}-${process.pid}`).toLowerCase().replace(/[^a-z0-9_-]/g, '-');
    this.serviceId = `${ORCHESTRATOR_AGENT_NAME}-${replica}`;
    if (!config.CONSUL_URL) {
      this.consul = null;
      return;
    }
    const url = new URL(config.CONSUL_URL);
    const secure = url.protocol === 'https:';
    this.consul = new Consul({ host: url.hostname, port: Number(url.port || (secure ? 443 : 80)), secure });
  }

  get enabled(): boolean {
    return this.consul !== null;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.consul) return;
    const address = this.config.CONSUL_SERVICE_ADDRESS;
    await this.consul.agent.service.register({
      name: ORCHESTRATOR_AGENT_NAME,
      id: this.serviceId,
      address,
      port: this.config.PORT,
      tags: ['orchestrator'],
      check: {
        name: `${ORCHESTRATOR_AGENT_NAME} readiness`,
        http: `http://${address}:${this.config.PORT}/health/ready`,
        interval: '10s',
        timeout: '3s',
        deregistercriticalserviceafter: '1m',
      },
    });
    this.logger.log(`registered in Consul as ${this.serviceId}`);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.consul) return;
    try {
      await this.consul.agent.service.deregister(this.serviceId);
      this.logger.log(`deregistered ${this.serviceId} from Consul`);
    } catch (error) {
      // Consul removes it anyway once its check has been critical for a minute.
      this.logger.warn(`could not deregister from Consul: ${(error as Error).message}`);
    }
  }

  async ping(): Promise<void> {
    if (this.consul) await this.consul.status.leader();
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
    const entries = (await this.consul.kv.get({ key: SETTINGS_PREFIX, recurse: true })) as KvEntry[] | undefined;
    return toSettings(entries);
  }

  /** Calls `onChange` with all the settings whenever they change; returns a function that stops watching. */
  watchSettings(onChange: (settings: Record<string, string>) => void): () => void {
    if (!this.consul) return () => undefined;
    const consul = this.consul;
    let stopped = false;
    let watch: ReturnType<Consul['watch']> | undefined;
    let restart: NodeJS.Timeout | undefined;
    const start = (): void => {
      watch = consul.watch({
        method: consul.kv.get.bind(consul.kv),
        // kv.get only tests `recurse` for truth; the watch options are typed as strings.
        options: { key: SETTINGS_PREFIX, recurse: 'true', wait: '5s' },
        backoffFactor: 200,
        backoffMax: 5_000,
      });
      watch.on('change', (entries: KvEntry[] | undefined) => onChange(toSettings(entries)));
      watch.on('error', (error: Error) => this.logger.warn(`watching Consul settings: ${error.message}`));
      // The client gives up on some answers (a 400, a missing X-Consul-Index); start over after a pause.
      watch.on('end', () => {
        if (!stopped) restart = setTimeout(start, WATCH_RESTART_MS);
      });
    };
    start();
    return () => {
      stopped = true;
      clearTimeout(restart);
      watch?.end();
    };
  }

  private async readCatalog(consul: Consul): Promise<ConsulAgent[]> {
    const services = (await consul.catalog.service.list()) as Record<string, string[]>;
    const agents: ConsulAgent[] = [];
    for (const [name, tags] of Object.entries(services)) {
      if (!tags.includes(AGENT_TAG) || !isAgentName(name)) continue;
      const healthy = (await consul.health.service({ service: name, passing: true })) as unknown[];
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

function toSettings(entries: KvEntry[] | undefined): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const entry of entries ?? []) {
    const key = entry.Key.slice(SETTINGS_PREFIX.length);
    if (key && !key.includes('/') && entry.Value !== null) settings[key] = entry.Value;
  }
  return settings;
}
