import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { TaskStatusHttpController } from './task-status.http.controller.js';
import { TaskStatusService } from './task-status.service.js';

@Module({
  imports: [PersistenceModule],
  controllers: [TaskStatusHttpController],
  providers: [TaskStatusService],
})
export class StatusModule {}
