import { Injectable } from '@nestjs/common';
import { HistoryKind } from '@orchestrator/contracts';
import { newStepRow } from '../../persistence/task-rows.js';
import { RunAdmission } from '../concurrency/run-admission.js';
import type { Workflow } from '../workflow.js';

/**
 * A workflow starts: a row for each step of its plan, and the steps that depend on nothing are
 * sent. A run with a concurrency key is inserted QUEUED and starts only if its key has room. A
 * delayed one (`not_before` to come) is stored the same way and waits; StartTransition starts it.
 */
@Injectable()
export class SubmitTransition {
  constructor(private readonly runs: RunAdmission) {}

  /** `rerunOf`: the task_id of the task this one runs again. */
  async apply(wf: Workflow, rerunOf: string | null = null): Promise<void> {
    wf.add(wf.plan.steps.map((planned) => newStepRow(planned, planned.id, wf.root.id, wf.root.id, wf.root.priority)));
    const { root, plan } = wf;
    const delay = root.not_before ? { not_before: root.not_before.toISOString() } : {};
    wf.record(HistoryKind.Submitted, null, { priority: root.priority, requester_id: root.requester_id, depth: root.depth, ...(rerunOf ? { rerun_of: rerunOf } : {}), ...delay });
    wf.record(HistoryKind.Planned, null, { version: plan.version, revision: plan.revision ?? 1, steps: plan.steps.map((step) => step.id) });
    if (wf.delayed) {
      wf.effects.push({ kind: 'created', root });
      return;
    }
    if (root.concurrency_key !== null) await this.runs.submitted(wf);
    else await this.runs.start(wf);
  }
}
