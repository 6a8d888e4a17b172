import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { ReadinessService } from './readiness.service.js';

/** Liveness (the process answers) and readiness (PostgreSQL, NATS, Redis and, when configured, Consul reachable; 503 otherwise). */
@Controller('health')
export class HealthHttpController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: ReadinessService,
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /** 503 names the dependencies that are down (`message`, and each one's state in `error` and `details`). */
  @Get('ready')
  @HealthCheck()
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.readiness.check();
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as HealthCheckResult;
      throw new ServiceUnavailableException({ code: 'NOT_READY', message: `not ready: ${Object.keys(result.error ?? {}).join(', ')} down`, ...result });
    }
  }
}
