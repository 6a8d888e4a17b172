import { Injectable } from '@nestjs/common';
import { StepTransitions } from '../steps/step-transitions.js';
import type { Workflow } from '../workflow.js';

/** A request to cancel a workflow: what runs is told to stop, the requester gets CANCELLED. A finished one is left as it is. */
@Injectable()
export class CancelTransition {
  constructor(private readonly steps: StepTransitions) {}

  /** True when the workflow was running and is cancelled now. */
  async apply(wf: Workflow | null): Promise<boolean> {
    if (!wf || wf.finished) return false;
    await this.steps.cancelWorkflow(wf);
    return true;
  }
}
