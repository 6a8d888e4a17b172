import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { ReplicaStatusHttpController } from './replica-status.http.controller.js';
import { TaskStatusHttpController } from './task-status.http.controller.js';
import { TaskStatusService } from './task-status.service.js';

@Module({
  imports: [PersistenceModule, EngineModule],
  controllers: [TaskStatusHttpController, ReplicaStatusHttpController],
  providers: [TaskStatusService],
})
export class StatusModule {}
