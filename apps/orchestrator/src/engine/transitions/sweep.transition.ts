import { Injectable } from '@nestjs/common';
import { TaskStatus } from '@orchestrator/contracts';
import { StepTransitions } from '../steps/step-transitions.js';
import type { Workflow } from '../workflow.js';
import { StartTransition } from './start.transition.js';

/**
 * What time has made due in one workflow: its start (a delayed one), its own deadline, a revised
 * plan to ask for again, attempts past their deadline (failed, their agents told to stop), waits
 * past their timeout, sleeps that have ended, and steps due for dispatch (retries, and steps that
 * waited for an agent that offers their capability).
 */
@Injectable()
export class SweepTransition {
  constructor(
    private readonly steps: StepTransitions,
    private readonly start: StartTransition,
  ) {}

  async apply(wf: Workflow | null, dueRowIds: readonly string[]): Promise<void> {
    // Another replica holds it: it stays due and comes round again.
    if (!wf) return;
    if (wf.finished) {
      // Rows a finished workflow left due: cleared, so that they never come round again.
      this.steps.stop(wf, wf.root.id, true, `workflow ${wf.root.status.toLowerCase()}`, true);
      return;
    }
    if (wf.delayed) {
      await this.start.apply(wf);
      return;
    }
    const { root, now } = wf;
    if (root.deadline_at && root.deadline_at <= now) {
      const allowed = root.deadline_at.getTime() - (root.started_at ?? root.updated_at).getTime();
      await this.steps.failWorkflow(wf, `workflow timed out after ${allowed} ms`);
      return;
    }
    if (wf.awaitingRevision) {
      // The replica that was asking the planner died (its lease passed): ask again.
      if (root.next_attempt_at && root.next_attempt_at <= now) wf.effects.push({ kind: 'revise', rootId: root.id });
      return;
    }
    const due = dueRowIds.flatMap((id) => wf.rows.get(id) ?? []);
    // Attempts past their deadline, waits past their timeout, sleeps that have ended: each as its kind says.
    for (const row of due) await this.steps.due(wf, row);
    for (const row of due) {
      if (row.status === TaskStatus.Pending && row.next_attempt_at && row.next_attempt_at <= now) await this.steps.resend(wf, row);
    }
    await this.steps.advance(wf);
  }
}
