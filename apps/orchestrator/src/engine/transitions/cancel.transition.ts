import { Injectable } from '@nestjs/common';
import { StepTransitions } from '../steps/step-transitions.js';
import type { Workflow } from '../workflow.js';

/** A request to cancel a workflow: what runs is told to stop, the requester gets CANCELLED. A finished one is left as it is. */
@Injectable()
export class CancelTransition {
  constructor(private readonly steps: StepTransitions) {}

  /** True when the workflow was running (or QUEUED) and is cancelled now; `reason` is its error. */
  async apply(wf: Workflow | null, reason?: string): Promise<boolean> {
    if (!wf || wf.finished) return false;
    await this.steps.cancelWorkflow(wf, reason);
    return true;
  }
}
