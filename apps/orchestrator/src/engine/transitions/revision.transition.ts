import { Injectable, Logger } from '@nestjs/common';
import { HistoryKind, TaskStatus, type TaskRequest } from '@orchestrator/contracts';
import { MetricsService } from '../../metrics/metrics.service.js';
import { newStepRow } from '../../persistence/task-rows.js';
import type { RevisionRequest } from '../../planning/dynamic-planner.service.js';
import type { Plan } from '../../planning/plan.js';
import { StepTransitions } from '../steps/step-transitions.js';
import type { Workflow } from '../workflow.js';
import { stepResults } from '../workflow-view.js';

/** What the planner is asked, and the lease it is asked under. */
export interface RevisionQuestion {
  request: TaskRequest;
  revision: RevisionRequest;
  /** The root's `next_attempt_at` while this replica asks: the answer counts only if the root still holds it. */
  lease: number;
  /** The depth the workflow runs at, which the revised plan's nesting must respect. */
  depth: number;
}

export type RevisionOutcome = { kind: 'revised'; plan: Plan } | { kind: 'refused'; reason: string };

/**
 * Re-planning, in two transitions around a question to the planner (asked outside any
 * transaction): first the workflow is leased for the time the question may take, then the answer
 * is applied if the lease still holds: the finished steps stay, every other row is retired
 * (`<step>@<revision>`, kept for the record), the revision's steps get rows and run.
 */
@Injectable()
export class RevisionTransition {
  private readonly logger = new Logger(RevisionTransition.name);

  constructor(
    private readonly steps: StepTransitions,
    private readonly metrics: MetricsService,
  ) {}

  /** Leases a workflow waiting for a revised plan and says what to ask; null when it is not due (or not waiting). */
  async lease(wf: Workflow | null, leaseMs: number): Promise<RevisionQuestion | null> {
    if (!wf || !wf.awaitingRevision || (wf.root.next_attempt_at?.getTime() ?? Infinity) > wf.now.getTime()) return null;
    const lease = wf.now.getTime() + leaseMs;
    wf.patch(wf.root, { next_attempt_at: new Date(lease) });
    const completed = await stepResults(wf);
    let failed: RevisionRequest['failed'] = { step: '', agent: null, error: wf.root.error ?? '' };
    for (const planned of wf.plan.steps) {
      const row = wf.steps.get(planned.id);
      if (row?.status === TaskStatus.Failed && !planned.optional) {
        failed = { step: planned.id, agent: row.agent_name, error: row.error ?? 'no error given' };
        break;
      }
    }
    const { root } = wf;
    return {
      request: { task_id: root.task_id, task_type: root.task_type, payload: await wf.reads.requestPayload(root.id), priority: root.priority },
      revision: { revision: (wf.plan.revision ?? 1) + 1, plan: wf.plan, completed, failed },
      lease,
      depth: root.depth,
    };
  }

  async apply(wf: Workflow | null, question: RevisionQuestion, outcome: RevisionOutcome): Promise<void> {
    // Cancelled, timed out or taken over by another replica meanwhile: not ours to change.
    if (!wf || wf.root.status !== TaskStatus.Running || wf.root.next_attempt_at?.getTime() !== question.lease) return;
    if (outcome.kind === 'refused') {
      this.metrics.revisions.inc({ outcome: 'refused' });
      await this.steps.failWorkflow(wf, `${wf.root.error ?? 'a step failed'}; re-planning failed: ${outcome.reason}`);
      return;
    }
    this.metrics.revisions.inc({ outcome: 'applied' });
    const { revision } = question;
    const old = wf.plan;
    const kept = old.steps.filter((planned) => Object.hasOwn(revision.completed, planned.id));
    const keptIds = kept.map((planned) => planned.id);
    const plan: Plan = { ...old, revision: revision.revision, steps: [...kept, ...outcome.plan.steps], output: outcome.plan.output };
    const replaced = { plan: old, failed_step: revision.failed.step, error: wf.root.error ?? revision.failed.error, replaced_at: wf.now.toISOString() };
    wf.revision = { plan, history: [...(await wf.reads.planHistory(wf.root.id)), replaced], kept: keptIds, retiredRevision: old.revision ?? 1 };
    wf.forgetSteps(new Set(keptIds));
    wf.plan = plan;
    wf.dropContext();
    const rows = wf.add(outcome.plan.steps.map((planned) => newStepRow(planned, planned.id, wf.root.id, wf.root.id, wf.root.priority)));
    wf.patch(wf.root, { next_attempt_at: null, error: null });
    wf.record(HistoryKind.Revised, null, { revision: revision.revision, kept: keptIds, steps: outcome.plan.steps.map((step) => step.id) });
    this.logger.log(`${wf.root.task_id} runs revision ${revision.revision} of its plan: ${rows.length} new steps, ${kept.length} kept`);
    await this.steps.advance(wf);
  }
}
