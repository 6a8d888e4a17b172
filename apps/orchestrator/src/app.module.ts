import { Module } from '@nestjs/common';
import { AppConfigModule } from './config/config.module.js';
import { ConsulModule } from './consul/consul.module.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { EventsModule } from './events/events.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { IntakeModule } from './intake/intake.module.js';
import { RedisModule } from './redis/redis.module.js';
import { RegistryModule } from './registry/registry.module.js';
import { SchedulesModule } from './schedules/schedules.module.js';
import { SecurityModule } from './security/security.module.js';
import { StatusModule } from './status/status.module.js';
import { NatsModule } from './transport/nats.module.js';
import { WaitingModule } from './waiting/waiting.module.js';

@Module({
  imports: [AppConfigModule, SecurityModule, MetricsModule, NatsModule, RedisModule, IntakeModule, StatusModule, EventsModule, RegistryModule, ConsulModule, HealthModule, WaitingModule, SchedulesModule, DashboardModule.register()],
})
export class AppModule {}
