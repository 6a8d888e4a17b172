import { Module } from '@nestjs/common';
import { AggregationModule } from '../aggregation/aggregation.module.js';
import { DelegationModule } from '../delegation/delegation.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { PlanningModule } from '../planning/planning.module.js';
import { AgentProgressController } from './agent-progress.controller.js';
import { AgentResponsesController } from './agent-responses.controller.js';
import { AttemptCheck } from './attempt-check.js';
import { ProgressCoalescer } from './progress-coalescer.js';
import { ProgressTransition } from './transitions/progress.transition.js';
import { RetryTransition } from './transitions/retry.transition.js';
import { EffectRunner } from './effect-runner.js';
import { EngineGauges } from './engine-gauges.js';
import { EngineStats } from './engine-stats.js';
import { HistoryPublisher } from './history-publisher.js';
import { NoRespondersListener } from './no-responders.listener.js';
import { RefusedAnswers } from './refused-answers.js';
import { RevisionSignal } from './revision-signal.js';
import { ForEachSteps } from './steps/for-each-steps.js';
import { StepDispatcher } from './steps/step-dispatcher.js';
import { StepTransitions } from './steps/step-transitions.js';
import { SweepSignal } from './sweep-signal.js';
import { SweeperService } from './sweeper.service.js';
import { TransitionQueue } from './transition-queue.js';
import { TransitionRunner } from './transition-runner.js';
import { AnswerTransition } from './transitions/answer.transition.js';
import { CancelTransition } from './transitions/cancel.transition.js';
import { RevisionTransition } from './transitions/revision.transition.js';
import { SubmitTransition } from './transitions/submit.transition.js';
import { SweepTransition } from './transitions/sweep.transition.js';
import { WorkflowCaches } from './workflow-reads.js';
import { WorkflowEngine } from './workflow-engine.service.js';

@Module({
  imports: [PersistenceModule, PlanningModule, DelegationModule, AggregationModule],
  controllers: [AgentResponsesController, AgentProgressController],
  providers: [
    WorkflowEngine,
    TransitionQueue,
    TransitionRunner,
    WorkflowCaches,
    EffectRunner,
    StepTransitions,
    StepDispatcher,
    ForEachSteps,
    SubmitTransition,
    AnswerTransition,
    SweepTransition,
    CancelTransition,
    RevisionTransition,
    SweeperService,
    NoRespondersListener,
    SweepSignal,
    RevisionSignal,
    EngineStats,
    EngineGauges,
    RefusedAnswers,
    HistoryPublisher,
    RetryTransition,
    ProgressTransition,
    ProgressCoalescer,
    AttemptCheck,
  ],
  exports: [WorkflowEngine, EngineStats],
})
export class EngineModule {}
