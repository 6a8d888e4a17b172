import { Injectable } from '@nestjs/common';
import { HistoryKind, TaskStatus } from '@orchestrator/contracts';
import type { TaskRow } from '../../persistence/task-rows.js';
import type { PlannedStep } from '../../planning/plan.js';
import { evaluate } from '../../planning/template.js';
import type { Workflow } from '../workflow.js';
import { templateContext } from '../workflow-view.js';
import { STARTED, type StepKind, type StepOutcome } from './step-kind.js';

/** Times `until` may give: from the epoch to the year 9999. */
const LATEST_MS = 253_402_300_799_999;

/**
 * A step that sleeps (`sleep: { for_ms }` or `sleep: { until }`): it starts WAITING with the time it
 * ends as its due time (`next_attempt_at`), which any replica's sweeper finds once it has passed,
 * so that it survives restarts and fires once; it then completes with `{ until }`. A time already
 * past completes it at once.
 */
@Injectable()
export class SleepStep implements StepKind {
  async start(wf: Workflow, row: TaskRow, planned: PlannedStep): Promise<StepOutcome> {
    const sleep = planned.sleep ?? {};
    let until: number;
    if (sleep.for_ms !== undefined) until = wf.now.getTime() + sleep.for_ms;
    else {
      try {
        until = timeOf(evaluate(sleep.until ?? '', await templateContext(wf)));
      } catch (error) {
        return { kind: 'failed', error: `sleep.until: ${(error as Error).message}` };
      }
    }
    wf.patch(row, { started_at: wf.now });
    if (until <= wf.now.getTime()) return this.wake(wf, row, new Date(until));
    wf.patch(row, { status: TaskStatus.Waiting, next_attempt_at: new Date(until), deadline_at: null, wait_key: null, waiting_on: null });
    wf.record(HistoryKind.Waiting, row.step_key, { until: new Date(until).toISOString() });
    return STARTED;
  }

  due(wf: Workflow, row: TaskRow): Promise<StepOutcome> {
    if (row.status !== TaskStatus.Waiting || !row.next_attempt_at || row.next_attempt_at > wf.now) return Promise.resolve(STARTED);
    return Promise.resolve(this.wake(wf, row, row.next_attempt_at));
  }

  private wake(wf: Workflow, row: TaskRow, until: Date): StepOutcome {
    wf.record(HistoryKind.Woke, row.step_key, { until: until.toISOString() });
    return { kind: 'completed', result: { until: until.toISOString() } };
  }

  label(): string {
    return 'sleep';
  }
}

/** An ISO 8601 time or milliseconds since the epoch, as milliseconds. */
function timeOf(value: unknown): number {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0 || ms > LATEST_MS) {
    throw new Error(`gave ${JSON.stringify(value)}, not an ISO 8601 time or milliseconds since the epoch`);
  }
  return ms;
}
