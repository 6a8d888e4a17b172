import { Injectable } from '@nestjs/common';
import { HistoryKind, TaskStatus } from '@orchestrator/contracts';
import { StepTransitions } from '../steps/step-transitions.js';
import type { Workflow } from '../workflow.js';
import type { Sender } from '../workflow-signals.js';

/** An external event that matched a waiting step: the row found by its wait key. */
export interface MatchedEvent {
  rowId: string;
  waitKey: string;
  event: string;
  payload: Record<string, unknown>;
  sender: Sender;
}

/**
 * An external event resumes a step found waiting for it: if the step still waits for the same
 * thing (not resumed by another event meanwhile, not cancelled), it completes with the event as
 * its result. Returns true when it did.
 */
@Injectable()
export class EventTransition {
  constructor(private readonly steps: StepTransitions) {}

  async apply(wf: Workflow | null, matched: MatchedEvent): Promise<boolean> {
    const row = wf?.rows.get(matched.rowId);
    if (!wf || wf.finished || !row || row.status !== TaskStatus.Waiting || row.wait_key !== matched.waitKey) return false;
    wf.record(HistoryKind.EventReceived, row.step_key, { event: matched.event, ...matched.sender });
    await this.steps.resume(wf, row, matched.payload, { event: matched.event });
    await this.steps.advance(wf);
    return true;
  }
}
