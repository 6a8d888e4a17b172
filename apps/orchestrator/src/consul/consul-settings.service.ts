import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig, validateConfig } from '../config/app-config.js';
import { ConsulService } from './consul.service.js';

/** The settings Consul's KV store may change while the service runs. */
export const LIVE_SETTINGS = [
  'DEFAULT_MAX_ATTEMPTS',
  'DEFAULT_STEP_TIMEOUT_MS',
  'AGENT_HEARTBEAT_TTL_MS',
  'SWEEP_INTERVAL_MS',
  'STATIC_AGENTS',
] as const satisfies readonly (keyof AppConfig)[];

/**
 * Overlays the settings in Consul's KV store on the environment, at start and whenever they
 * change, without a restart. A change that does not validate is refused whole and logged.
 */
@Injectable()
export class ConsulSettingsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ConsulSettingsService.name);
  private readonly environment: Record<string, unknown>;
  private stopWatching: () => void = () => undefined;

  constructor(
    private readonly consul: ConsulService,
    private readonly config: AppConfig,
  ) {
    this.environment = Object.fromEntries(LIVE_SETTINGS.map((key) => [key, config[key]]));
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.consul.enabled) return;
    try {
      this.apply(await this.consul.readSettings());
    } catch (error) {
      this.logger.warn(`could not read settings from Consul, keeping the environment's: ${(error as Error).message}`);
    }
    this.stopWatching = this.consul.watchSettings((settings) => this.apply(settings));
  }

  onApplicationShutdown(): void {
    this.stopWatching();
  }

  apply(settings: Record<string, string>): void {
    const overlay = Object.fromEntries(Object.entries(settings).filter(([key]) => (LIVE_SETTINGS as readonly string[]).includes(key)));
    let merged: AppConfig;
    try {
      merged = validateConfig({ ...this.currentEnvironment(), ...this.environment, ...overlay });
    } catch (error) {
      this.logger.error(`refused settings from Consul: ${(error as Error).message}`);
      return;
    }
    const changed = LIVE_SETTINGS.filter((key) => this.config[key] !== merged[key]);
    if (changed.length === 0) return;
    Object.assign(this.config, Object.fromEntries(LIVE_SETTINGS.map((key) => [key, merged[key]])));
    this.logger.log(`settings from Consul: ${changed.map((key) => `${key}=${String(merged[key])}`).join(', ')}`);
  }

  /** The validated configuration as environment variables, to validate an overlay against. */
  private currentEnvironment(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this.config).filter(([, value]) => value !== undefined));
  }
}
