import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ConsulModule } from '../consul/consul.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { HealthHttpController } from './health.http.controller.js';
import { ReadinessService } from './readiness.service.js';

@Module({
  imports: [TerminusModule, PersistenceModule, ConsulModule],
  controllers: [HealthHttpController],
  providers: [ReadinessService],
})
export class HealthModule {}
