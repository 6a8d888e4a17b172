import { Module } from '@nestjs/common';
import { AggregationModule } from '../aggregation/aggregation.module.js';
import { DelegationModule } from '../delegation/delegation.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { PlanningModule } from '../planning/planning.module.js';
import { AgentResponsesController } from './agent-responses.controller.js';
import { EngineGauges } from './engine-gauges.js';
import { EngineStats } from './engine-stats.js';
import { NoRespondersListener } from './no-responders.listener.js';
import { SweepSignal } from './sweep-signal.js';
import { SweeperService } from './sweeper.service.js';
import { WorkflowEngine } from './workflow-engine.service.js';

@Module({
  imports: [PersistenceModule, PlanningModule, DelegationModule, AggregationModule],
  controllers: [AgentResponsesController],
  providers: [WorkflowEngine, SweeperService, NoRespondersListener, SweepSignal, EngineStats, EngineGauges],
  exports: [WorkflowEngine, EngineStats],
})
export class EngineModule {}
