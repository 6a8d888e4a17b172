import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ReplicaStatusDoc } from '../http/openapi.js';
import { AppConfig } from '../config/app-config.js';
import { LIVE_SETTINGS } from '../consul/consul-settings.service.js';
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
  /** The settings Consul may change while the service runs, as in force now. */
  settings: Partial<Record<(typeof LIVE_SETTINGS)[number], unknown>>;
}

/** `GET /status`: what this replica has done since it started. */
@ApiTags('status')
@Controller('status')
export class ReplicaStatusHttpController {
  constructor(
    private readonly stats: EngineStats,
    private readonly publisher: MessagePublisher,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: "This replica: its id, counts since it started, the live settings" })
  @ApiOkResponse({ type: ReplicaStatusDoc })
  get(): ReplicaStatusView {
    return {
      replica_id: this.publisher.replicaId,
      started_at: this.stats.startedAt.toISOString(),
      workflows_started: this.stats.workflowsStarted,
      workflows_finished: this.stats.workflowsFinished,
      subtasks_dispatched: this.stats.subtasksDispatched,
      responses_applied: this.stats.responsesApplied,
      responses_dropped: this.stats.responsesDropped,
      settings: Object.fromEntries(LIVE_SETTINGS.map((key) => [key, this.config[key]])),
    };
  }
}
