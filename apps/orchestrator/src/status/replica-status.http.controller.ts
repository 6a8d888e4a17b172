import { Controller, Get } from '@nestjs/common';
import { EngineStats } from '../engine/engine-stats.js';
import { MessagePublisher } from '../transport/message-publisher.js';

export interface ReplicaStatusView {
  replica_id: string;
  started_at: string;
  workflows_started: number;
  workflows_finished: number;
  subtasks_dispatched: number;
  responses_applied: number;
  responses_dropped: number;
}

/** `GET /status`: what this replica has done since it started. */
@Controller('status')
export class ReplicaStatusHttpController {
  constructor(
    private readonly stats: EngineStats,
    private readonly publisher: MessagePublisher,
  ) {}

  @Get()
  get(): ReplicaStatusView {
    return {
      replica_id: this.publisher.replicaId,
      started_at: this.stats.startedAt.toISOString(),
      workflows_started: this.stats.workflowsStarted,
      workflows_finished: this.stats.workflowsFinished,
      subtasks_dispatched: this.stats.subtasksDispatched,
      responses_applied: this.stats.responsesApplied,
      responses_dropped: this.stats.responsesDropped,
    };
  }
}
