import { Injectable } from '@nestjs/common';
import { TaskStatus } from '@orchestrator/contracts';
import type { Claim } from '../../delegation/dispatch-queue.service.js';
import { StepTransitions } from '../steps/step-transitions.js';
import type { Workflow } from '../workflow.js';

/**
 * A step that waited in line was popped into a slot of an agent: it is dispatched there now. The
 * line may hold steps that stopped waiting since (cancelled, their workflow ended or was retried):
 * those are left alone, and the slot goes back. Returns whether the step took the slot.
 */
@Injectable()
export class ClaimTransition {
  constructor(private readonly steps: StepTransitions) {}

  async apply(wf: Workflow | null, claim: Claim, rowId: string, attempt: number): Promise<boolean> {
    const row = wf?.rows.get(rowId);
    if (!wf || !row || wf.finished || wf.awaitingRevision) return false;
    if (row.status !== TaskStatus.Pending || row.waiting_on === null || row.attempts + 1 !== attempt) return false;
    await this.steps.resend(wf, row);
    await this.steps.advance(wf);
    // The step may have gone elsewhere (its agent left its candidates) or not at all (its input failed).
    const after = wf.rows.get(rowId);
    return after?.status === TaskStatus.Running && after.attempts === attempt && after.agent_name === claim.agent;
  }
}
