import { Injectable, Logger } from '@nestjs/common';
import { HistoryKind, TaskStatus } from '@orchestrator/contracts';
import { itemKey } from '../../persistence/step-keys.js';
import type { TaskRow } from '../../persistence/task-rows.js';
import type { PlannedStep } from '../../planning/plan.js';
import { keyedRun, RunAdmission } from '../concurrency/run-admission.js';
import { StepTransitions } from '../steps/step-transitions.js';
import type { Workflow } from '../workflow.js';

export type RetryOutcome = { kind: 'resumed'; steps: string[] } | { kind: 'refused'; reason: string };

/**
 * A FAILED or CANCELLED workflow runs again from where it stopped: completed steps (and the
 * completed items of a `for_each` step) keep their results, every other step is tried again with
 * its attempts counted on from where they were (so an answer to an earlier attempt, however
 * late, never counts), and the requester gets a new final response when it ends.
 */
@Injectable()
export class RetryTransition {
  private readonly logger = new Logger(RetryTransition.name);

  constructor(
    private readonly steps: StepTransitions,
    private readonly runs: RunAdmission,
  ) {}

  async apply(wf: Workflow | null): Promise<RetryOutcome> {
    if (!wf) return { kind: 'refused', reason: 'the task is gone' };
    const { root, now } = wf;
    if (root.status !== TaskStatus.Failed && root.status !== TaskStatus.Cancelled) {
      return { kind: 'refused', reason: `task ${root.task_id} is ${root.status}: only a FAILED or CANCELLED task can be retried` };
    }
    // Its final response goes out before it runs again, so that the requester gets each outcome once, in order.
    if (root.response_sent_at === null) return { kind: 'refused', reason: `the final response of task ${root.task_id} is still being sent: retry in a moment` };
    const was = root.status;
    // A run of a concurrency key runs again only in a free slot of its key.
    const keyed = keyedRun(wf);
    if (keyed && !(await this.runs.takeSlot(wf))) {
      return { kind: 'refused', reason: `concurrency key "${keyed.shown}" has ${keyed.policy.max_runs} of ${keyed.policy.max_runs} runs in progress: retry task ${root.task_id} when one ends` };
    }
    const resumed: string[] = [];
    const sent: TaskRow[] = [];
    for (const planned of wf.plan.steps) {
      const row = wf.steps.get(planned.id);
      if (!row || row.status === TaskStatus.Completed) continue;
      resumed.push(planned.id);
      if (row.item_count !== null) await this.resumeItems(wf, row, planned);
      else {
        wf.patch(row, { ...again(row, planned), next_attempt_at: null });
        // Sent before: its prerequisites were complete, and are kept.
        if (row.attempts > 0) sent.push(row);
      }
    }
    wf.patch(root, {
      status: TaskStatus.Running,
      // A delayed workflow cancelled before its time starts now.
      started_at: root.started_at ?? now,
      error: null,
      completed_at: null,
      next_attempt_at: null,
      deadline_at: wf.plan.timeout_ms === null ? null : new Date(now.getTime() + wf.plan.timeout_ms),
    });
    wf.reopened = true;
    wf.record(HistoryKind.Resumed, null, { was, steps: resumed });
    this.logger.log(`task ${root.task_id} (${was}) runs again from ${resumed.length} unfinished steps`);
    for (const row of sent) await this.steps.resend(wf, row);
    await this.steps.advance(wf);
    return { kind: 'resumed', steps: resumed };
  }

  /**
   * A `for_each` step keeps its completed items and sends the others again, due at once (the sweeper
   * takes them, within the agents' capacity): it runs again with its list as it was expanded.
   */
  private async resumeItems(wf: Workflow, step: TaskRow, planned: PlannedStep): Promise<void> {
    const count = step.item_count ?? 0;
    const items = await wf.itemRows(step.id, Array.from({ length: count }, (_, i) => itemKey(step.step_key, i)));
    let done = 0;
    for (const item of items) {
      if (item.status === TaskStatus.Completed) done += 1;
      else wf.patch(item, { ...again(item, planned), next_attempt_at: wf.now });
    }
    wf.patch(step, { status: TaskStatus.Running, error: null, completed_at: null, items_started: count, items_done: done });
  }
}

/** A row made ready to be tried again: as many attempts as its plan gives, counted on from its last. */
function again(row: TaskRow, planned: PlannedStep): Partial<TaskRow> {
  return {
    status: TaskStatus.Pending,
    error: null,
    completed_at: null,
    deadline_at: null,
    waiting_on: null,
    max_attempts: row.attempts + planned.max_attempts,
  };
}
