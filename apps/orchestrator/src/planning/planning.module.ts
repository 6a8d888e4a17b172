import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module.js';
import { DynamicPlanner } from './dynamic-planner.service.js';
import { ExpressionPool } from './expression-pool.js';
import { Expressions } from './expressions.js';
import { PlanningService } from './planning.service.js';
import { WorkflowCatalog } from './workflow-catalog.service.js';
import { WorkflowReloader } from './workflow-reloader.service.js';
import { WorkflowsHttpController } from './workflows.http.controller.js';

@Module({
  imports: [RegistryModule],
  controllers: [WorkflowsHttpController],
  providers: [WorkflowCatalog, WorkflowReloader, PlanningService, DynamicPlanner, { provide: Expressions, useClass: ExpressionPool }],
  exports: [WorkflowCatalog, PlanningService, Expressions],
})
export class PlanningModule {}
