import { Module } from '@nestjs/common';
import { PlanningService } from './planning.service.js';
import { WorkflowCatalog } from './workflow-catalog.service.js';
import { WorkflowsHttpController } from './workflows.http.controller.js';

@Module({ controllers: [WorkflowsHttpController], providers: [WorkflowCatalog, PlanningService], exports: [WorkflowCatalog, PlanningService] })
export class PlanningModule {}
