import { Injectable } from '@nestjs/common';

/** What this replica has done since it started, for GET /status. */
@Injectable()
export class EngineStats {
  readonly startedAt = new Date();
  workflowsStarted = 0;
  workflowsFinished = 0;
  responsesApplied = 0;
  responsesDropped = 0;
  subtasksDispatched = 0;
}
