import { Controller, Get, Inject } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
} from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { ConsulService } from '../consul/consul.service.js';
import { NatsClient } from '../transport/nats-client.js';

const CHECK_TIMEOUT_MS = 1_500;

/** Liveness (the process answers) and readiness (PostgreSQL, NATS, Redis and, when configured, Consul reachable; 503 otherwise). */
@Controller('health')
export class HealthHttpController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly nats: NatsClient,
    @Inject(Redis) private readonly redis: Redis,
    private readonly consul: ConsulService,
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
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
    ]);
  }
}
