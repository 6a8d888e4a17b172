import { Injectable } from '@nestjs/common';
import { HistoryKind, TaskStatus } from '@orchestrator/contracts';
import { MetricsService } from '../../metrics/metrics.service.js';
import { StepTransitions } from '../steps/step-transitions.js';
import type { Workflow } from '../workflow.js';
import { StartTransition } from './start.transition.js';

/**
 * What time has made due in one workflow: its start (a delayed one), its own deadline, a revised plan to ask for again,
 * attempts past their deadline (failed, their agents told to stop), and steps due for dispatch
 * (retries, and steps that waited for an agent). Returns the agents found at capacity.
 */
@Injectable()
export class SweepTransition {
  constructor(
    private readonly steps: StepTransitions,
    private readonly metrics: MetricsService,
    private readonly start: StartTransition,
  ) {}

  async apply(wf: Workflow | null, dueRowIds: readonly string[]): Promise<string[]> {
    // Another replica holds it: it stays due and comes round again.
    if (!wf) return [];
    if (wf.finished) {
      // Rows a finished workflow left due: cleared, so that they never come round again.
      this.steps.stop(wf, wf.root.id, true, `workflow ${wf.root.status.toLowerCase()}`, true);
      return [];
    }
    if (wf.delayed) {
      await this.start.apply(wf);
      return [...wf.blockedOn];
    }
    const { root, now } = wf;
    if (root.deadline_at && root.deadline_at <= now) {
      const allowed = root.deadline_at.getTime() - (root.started_at ?? root.updated_at).getTime();
      await this.steps.failWorkflow(wf, `workflow timed out after ${allowed} ms`);
      return [];
    }
    if (wf.awaitingRevision) {
      // The replica that was asking the planner died (its lease passed): ask again.
      if (root.next_attempt_at && root.next_attempt_at <= now) wf.effects.push({ kind: 'revise', rootId: root.id });
      return [];
    }
    const due = dueRowIds.flatMap((id) => wf.rows.get(id) ?? []);
    for (const row of due) {
      if (row.status === TaskStatus.Running && row.deadline_at && row.deadline_at <= now) {
        const planned = wf.planned(row);
        this.metrics.timeouts.inc({ agent: row.agent_name ?? 'unknown' });
        wf.record(HistoryKind.TimedOut, row.step_key, { agent: row.agent_name, attempt: row.attempts, timeout_ms: planned.timeout_ms });
        await this.steps.failAttempt(wf, row, `agent ${row.agent_name ?? '?'} did not answer within ${planned.timeout_ms} ms`, 'timed-out');
      }
    }
    for (const row of due) {
      if (row.status === TaskStatus.Pending && row.next_attempt_at && row.next_attempt_at <= now) await this.steps.resend(wf, row);
    }
    await this.steps.advance(wf);
    return [...wf.blockedOn];
  }
}
