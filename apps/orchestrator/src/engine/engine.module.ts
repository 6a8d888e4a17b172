import { Module } from '@nestjs/common';
import { AggregationModule } from '../aggregation/aggregation.module.js';
import { AppConfig } from '../config/app-config.js';
import { DelegationModule } from '../delegation/delegation.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { PlanningModule } from '../planning/planning.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { IntakeStream } from '../transport/intake-stream.js';
import { AgentProgressController } from './agent-progress.controller.js';
import { AgentResponsesController } from './agent-responses.controller.js';
import { AnswerOverflow } from './answer-overflow.js';
import { ProgressCoalescer } from './progress-coalescer.js';
import { ProgressTransition } from './transitions/progress.transition.js';
import { RetryTransition } from './transitions/retry.transition.js';
import { StartTransition } from './transitions/start.transition.js';
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
import { ClaimSignal } from './claim-signal.js';
import { ClaimTransition } from './transitions/claim.transition.js';
import { AgentStep } from './steps/agent-step.js';
import { SleepStep } from './steps/sleep-step.js';
import { StepKinds } from './steps/step-kinds.js';
import { WaitStep } from './steps/wait-step.js';
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
import { QueuedRuns } from './concurrency/queued-runs.service.js';
import { RunAdmission } from './concurrency/run-admission.js';
import { RunSignal } from './concurrency/run-signal.js';
import { RunSlots } from './concurrency/run-slots.js';
import { AdmitTransition } from './transitions/admit.transition.js';
import { UsageLedger } from './usage-ledger.js';
import { EventTransition } from './transitions/event.transition.js';
import { SignalTransition } from './transitions/signal.transition.js';
import { EventShapes } from './waits/event-shapes.js';
import { WaitingWorkflows } from './waits/waiting-workflows.service.js';

@Module({
  imports: [PersistenceModule, PlanningModule, DelegationModule, RegistryModule, AggregationModule],
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
    StepKinds,
    AgentStep,
    WaitStep,
    SleepStep,
    SubmitTransition,
    AnswerTransition,
    SweepTransition,
    CancelTransition,
    RevisionTransition,
    SweeperService,
    NoRespondersListener,
    ClaimSignal,
    ClaimTransition,
    RevisionSignal,
    EngineStats,
    EngineGauges,
    RefusedAnswers,
    HistoryPublisher,
    RetryTransition,
    ProgressTransition,
    ProgressCoalescer,
    RunSignal,
    RunSlots,
    RunAdmission,
    AdmitTransition,
    QueuedRuns,
    UsageLedger,
    {
      provide: AnswerOverflow,
      inject: [IntakeStream, AppConfig, MetricsService],
      useFactory: (intake: IntakeStream, config: AppConfig, metrics: MetricsService) => AnswerOverflow.open(intake, config, metrics),
    },
    SignalTransition,
    EventTransition,
    EventShapes,
    WaitingWorkflows,
    StartTransition,
  ],
  exports: [WorkflowEngine, EngineStats, WaitingWorkflows],
})
export class EngineModule {}
