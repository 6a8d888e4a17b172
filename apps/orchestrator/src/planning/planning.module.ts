import { Module } from '@nestjs/common';
import { PlanningService } from './planning.service.js';
import { WorkflowCatalog } from './workflow-catalog.service.js';

@Module({ providers: [WorkflowCatalog, PlanningService], exports: [WorkflowCatalog, PlanningService] })
export class PlanningModule {}
