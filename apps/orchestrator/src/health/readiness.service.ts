import { Inject, Injectable, ServiceUnavailableException, type OnModuleInit } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator, type HealthCheckResult } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { ConsulService } from '../consul/consul.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { NatsClient } from '../transport/nats-client.js';

const CHECK_TIMEOUT_MS = 1_500;

/**
 * Readiness: PostgreSQL, NATS, Redis and, when configured, Consul reachable. GET /health/ready
 * answers with it (503 when one is down), and the gauge `orchestrator_dependency_up` shows each
 * dependency to Prometheus.
 */
@Injectable()
export class ReadinessService implements OnModuleInit {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly nats: NatsClient,
    @Inject(Redis) private readonly redis: Redis,
    private readonly consul: ConsulService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.labelledGauge('orchestrator_dependency_up', 'Whether this replica reaches each dependency (1) or not (0), as its readiness sees it', 'dependency', async () => {
      const { details } = await this.check().catch((error: unknown) => {
        if (error instanceof ServiceUnavailableException) return error.getResponse() as HealthCheckResult;
        throw error;
      });
      return new Map(Object.entries(details).map(([name, detail]) => [name, detail.status === 'up' ? 1 : 0]));
    });
  }

  /** Throws ServiceUnavailableException, with every dependency's state, when one is down. */
  check(): Promise<HealthCheckResult> {
    const consul = this.consul.enabled
      ? [() => this.indicators.check('consul').attempt(() => this.consul.ping()).withTimeout(CHECK_TIMEOUT_MS)]
      : [];
    return this.health.check([
      ...consul,
      () => this.database.pingCheck('database').withTimeout(CHECK_TIMEOUT_MS),
      () => {
        const nats = this.indicators.check('nats');
        // Whether, not where: readiness is open to anyone, and the servers' addresses are nobody's business there.
        return this.nats.connected ? nats.up() : nats.down('not connected');
      },
      () =>
        this.indicators
          .check('redis')
          .attempt(async () => {
            await this.redis.ping();
          })
          .withTimeout(CHECK_TIMEOUT_MS),
    ]);
  }
}
