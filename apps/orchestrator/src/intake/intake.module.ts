import { Module } from '@nestjs/common';
import { AggregationModule } from '../aggregation/aggregation.module.js';
import { EngineModule } from '../engine/engine.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { PlanningModule } from '../planning/planning.module.js';
import { CancelTaskUseCase } from './cancel-task.usecase.js';
import { DurableIntakeService } from './durable-intake.service.js';
import { RerunTaskUseCase } from './rerun-task.usecase.js';
import { RetryTaskUseCase } from './retry-task.usecase.js';
import { SubmitTaskUseCase } from './submit-task.usecase.js';
import { TaskIntakeMessageController } from './task-intake.message.controller.js';
import { TasksHttpController } from './tasks.http.controller.js';

@Module({
  imports: [EngineModule, PlanningModule, AggregationModule, PersistenceModule],
  controllers: [TaskIntakeMessageController, TasksHttpController],
  providers: [SubmitTaskUseCase, CancelTaskUseCase, RetryTaskUseCase, RerunTaskUseCase, DurableIntakeService],
  exports: [SubmitTaskUseCase, CancelTaskUseCase],
})
export class IntakeModule {}
