import { Injectable } from '@nestjs/common';
import { HistoryKind, TaskStatus } from '@orchestrator/contracts';
import { RunAdmission } from '../concurrency/run-admission.js';
import type { Workflow } from '../workflow.js';

/**
 * A delayed workflow whose `not_before` has come starts as one submitted now would: RUNNING (or
 * QUEUED behind its concurrency key), its deadline counted from now, the steps that depend on
 * nothing sent. Its rows were stored with it.
 */
@Injectable()
export class StartTransition {
  constructor(private readonly runs: RunAdmission) {}

  async apply(wf: Workflow): Promise<void> {
    const { root, now } = wf;
    if (!wf.delayed || root.not_before === null || root.not_before > now) return;
    // Stored as not_before + the time allowed: the same time allowed from the start, however late it comes.
    const deadline = root.deadline_at && new Date(now.getTime() + root.deadline_at.getTime() - root.not_before.getTime());
    const keyed = root.concurrency_key !== null;
    wf.patch(root, { status: keyed ? TaskStatus.Queued : TaskStatus.Running, started_at: now, deadline_at: deadline });
    wf.record(HistoryKind.Started, null, { not_before: root.not_before.toISOString() });
    // A run with a concurrency key takes its turn now, as one submitted now would.
    if (keyed) await this.runs.submitted(wf, true);
    else await this.runs.start(wf, true);
  }
}
