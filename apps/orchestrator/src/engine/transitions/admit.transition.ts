import { Injectable } from '@nestjs/common';
import { HistoryKind, TaskStatus } from '@orchestrator/contracts';
import { keyedRun, RunAdmission } from '../concurrency/run-admission.js';
import { StepTransitions } from '../steps/step-transitions.js';
import type { Workflow } from '../workflow.js';

/**
 * A QUEUED run is looked at: one marked when a run of its key ended, or one past its deadline. It
 * starts if its key has room now (counted under the key's lock), fails if its deadline has passed
 * while it waited, and otherwise waits on.
 */
@Injectable()
export class AdmitTransition {
  constructor(
    private readonly runs: RunAdmission,
    private readonly steps: StepTransitions,
  ) {}

  async apply(wf: Workflow | null): Promise<void> {
    if (!wf || wf.root.status !== TaskStatus.Queued) return;
    const { root, now } = wf;
    if (root.deadline_at && root.deadline_at <= now) {
      const allowed = root.deadline_at.getTime() - (root.started_at ?? root.updated_at).getTime();
      await this.steps.failWorkflow(wf, `workflow timed out after ${allowed} ms (QUEUED for its concurrency key)`);
      return;
    }
    if (!(await this.runs.takeSlot(wf))) return;
    const queuedMs = now.getTime() - (root.started_at ?? now).getTime();
    wf.record(HistoryKind.Started, null, { key: keyedRun(wf)?.shown ?? null, queued_ms: queuedMs });
    await this.runs.start(wf);
  }
}
