import { Inject, Injectable, ServiceUnavailableException, type OnModuleInit } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator, type HealthCheckResult } from '@nestjs/terminus';
import { ORCHESTRATOR_INTAKE_CONSUMER, ORCHESTRATOR_INTAKE_STREAM } from '@orchestrator/contracts';
import { Redis } from 'ioredis';
import { ConsulService } from '../consul/consul.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { IntakeStream } from '../transport/intake-stream.js';
import { NatsClient } from '../transport/nats-client.js';

const CHECK_TIMEOUT_MS = 1_500;

/**
 * Readiness: PostgreSQL, NATS, Redis and, when configured, Consul reachable, and under durable
 * intake the intake stream's consumer readable. GET /health/ready answers with it (503 when one
 * is down), and the gauge `orchestrator_dependency_up` shows each dependency to Prometheus.
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
    private readonly intake: IntakeStream,
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
        return this.nats.connected ? nats.up({ server: this.nats.connection.getServer() }) : nats.down('not connected');
      },
      () =>
        this.indicators
          .check('redis')
          .attempt(async () => {
            await this.redis.ping();
          })
          .withTimeout(CHECK_TIMEOUT_MS),
      // Where requests come from: core NATS, or the intake stream and its consumer, with what they hold.
      () =>
        this.intake.durable
          ? this.indicators
              .check('intake')
              .attempt(async () => ({ mode: 'durable', stream: ORCHESTRATOR_INTAKE_STREAM, consumer: ORCHESTRATOR_INTAKE_CONSUMER, ...(await this.intake.requests.state()) }))
              .withTimeout(CHECK_TIMEOUT_MS)
          : this.indicators.check('intake').up({ mode: 'core' }),
    ]);
  }
}
