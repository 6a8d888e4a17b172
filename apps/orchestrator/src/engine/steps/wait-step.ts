import { Injectable } from '@nestjs/common';
import { HistoryKind, isPlainObject, jsonValueProblem, TaskStatus } from '@orchestrator/contracts';
import type { TaskRow } from '../../persistence/task-rows.js';
import type { PlannedStep } from '../../planning/plan.js';
import { resolveTemplate } from '../../planning/template.js';
import type { WaitForDefinition } from '../../planning/wait-definition.js';
import { eventWaitKey, matches, signalWaitKey } from '../waits/wait-keys.js';
import type { Workflow } from '../workflow.js';
import { templateContext } from '../workflow-view.js';
import { STARTED, type StepKind, type StepOutcome } from './step-kind.js';

/**
 * A step that waits (`wait_for`) for a signal addressed to its workflow or for an external event.
 * It starts by taking a signal kept for it (the oldest of its name) or, with `lookback_ms`, a
 * matching event that came within that time; otherwise its row is WAITING with what it waits for
 * (`wait_key`) and its timeout (`deadline_at`). A signal (SignalTransition) or an event
 * (EventTransition) completes it with its payload; a timeout fails it, skips it, or completes it
 * with `default` (`on_timeout`).
 */
@Injectable()
export class WaitStep implements StepKind {
  async start(wf: Workflow, row: TaskRow, planned: PlannedStep): Promise<StepOutcome> {
    const wait = waitOf(planned);
    const context = await templateContext(wf);
    let input: unknown;
    try {
      input = resolveTemplate(planned.input, context);
      if (!isPlainObject(input)) throw new Error('the step input must resolve to a JSON object');
    } catch (error) {
      return { kind: 'failed', error: `input: ${(error as Error).message}` };
    }
    wf.patch(row, { payload: input, started_at: wf.now });
    if (wait.signal !== undefined) {
      const kept = await wf.signals.take(wait.signal, row.id);
      if (kept) {
        wf.record(HistoryKind.StepCompleted, row.step_key, { signal: wait.signal, signal_id: kept.signal_id, kept: true });
        return { kind: 'completed', result: kept.payload };
      }
      return this.wait(wf, row, wait, signalWaitKey(wait.signal), { signal: wait.signal });
    }
    const event = wait.event ?? '';
    let match: unknown;
    try {
      match = resolveTemplate(wait.match ?? {}, context);
      if (!isPlainObject(match)) throw new Error('must resolve to a JSON object');
      const problem = jsonValueProblem(match, 'match');
      if (problem) throw new Error(problem);
    } catch (error) {
      return { kind: 'failed', error: `wait_for.match: ${(error as Error).message}` };
    }
    if (wait.lookback_ms !== undefined) {
      const since = new Date(wf.now.getTime() - wait.lookback_ms);
      const kept = (await wf.reads.keptEvents(event, since, match)).find((payload) => matches(match, payload));
      if (kept) {
        wf.record(HistoryKind.StepCompleted, row.step_key, { event, match, kept: true });
        return { kind: 'completed', result: kept };
      }
    }
    return this.wait(wf, row, wait, eventWaitKey(event, match), { event, match });
  }

  private wait(wf: Workflow, row: TaskRow, wait: WaitForDefinition, key: string, what: Record<string, unknown>): StepOutcome {
    const deadline = wait.timeout_ms === undefined ? null : new Date(wf.now.getTime() + wait.timeout_ms);
    wf.patch(row, { status: TaskStatus.Waiting, wait_key: key, deadline_at: deadline, next_attempt_at: null, waiting_on: null });
    wf.record(HistoryKind.Waiting, row.step_key, { ...what, ...(wait.timeout_ms === undefined ? {} : { timeout_ms: wait.timeout_ms, on_timeout: wait.on_timeout }) });
    return STARTED;
  }

  due(wf: Workflow, row: TaskRow, planned: PlannedStep): Promise<StepOutcome> {
    if (row.status !== TaskStatus.Waiting || !row.deadline_at || row.deadline_at > wf.now) return Promise.resolve(STARTED);
    const wait = waitOf(planned);
    const timeout = wait.timeout_ms ?? row.deadline_at.getTime() - (row.started_at ?? row.deadline_at).getTime();
    const what = wait.signal !== undefined ? `signal "${wait.signal}"` : `event "${wait.event ?? ''}"`;
    wf.record(HistoryKind.TimedOut, row.step_key, { timeout_ms: timeout, on_timeout: wait.on_timeout });
    const reason = `no ${what} came within ${timeout} ms`;
    switch (wait.on_timeout) {
      case 'fail':
        return Promise.resolve({ kind: 'failed', error: reason });
      case 'skip':
        return Promise.resolve({ kind: 'completed', result: { skipped: true, reason } });
      case 'continue':
        return Promise.resolve({ kind: 'completed', result: wait.default ?? {} });
    }
  }

  label(): string {
    return 'wait_for';
  }
}

function waitOf(planned: PlannedStep): WaitForDefinition {
  if (!planned.wait_for) throw new Error(`step "${planned.id}" has no wait_for`);
  return planned.wait_for;
}
