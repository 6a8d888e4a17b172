import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { HealthHttpController } from './health.http.controller.js';

@Module({
  imports: [TerminusModule, PersistenceModule],
  controllers: [HealthHttpController],
})
export class HealthModule {}
