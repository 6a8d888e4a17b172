import { Injectable } from '@nestjs/common';
import { HistoryKind, TaskStatus, type SignalRequest } from '@orchestrator/contracts';
import type { TaskRow } from '../../persistence/task-rows.js';
import { checkPayload } from '../../planning/planning.service.js';
import { StepTransitions } from '../steps/step-transitions.js';
import type { Workflow } from '../workflow.js';
import type { Sender } from '../workflow-signals.js';

export type SignalOutcome =
  | { kind: 'delivered'; step: string }
  | { kind: 'kept'; step: string }
  | { kind: 'duplicate' }
  | { kind: 'finished'; status: TaskStatus }
  | { kind: 'no-step'; reason: string }
  | { kind: 'invalid'; error: string }
  | { kind: 'unknown' };

/**
 * A signal for a workflow, under its lock: the first step of the plan waiting for a signal of
 * that name takes it and completes with its payload; when none waits yet, it is kept (durably,
 * in the order signals came) for the first step that will, which takes it when it starts. Its
 * payload must fit that step's `payload` fields. A `signal_id` the workflow has seen is taken once.
 */
@Injectable()
export class SignalTransition {
  constructor(private readonly steps: StepTransitions) {}

  async apply(wf: Workflow | null, signal: SignalRequest, sender: Sender): Promise<SignalOutcome> {
    if (!wf) return { kind: 'unknown' };
    if (wf.finished) return { kind: 'finished', status: wf.root.status };
    const signalId = signal.signal_id ?? null;
    if (signalId !== null && (await wf.signals.seen(signalId))) return { kind: 'duplicate' };
    const takers = this.takers(wf, signal.signal);
    const waiting = takers.find((row) => row.status === TaskStatus.Waiting);
    const target = waiting ?? takers.find((row) => row.status === TaskStatus.Pending);
    if (!target) {
      const done = takers.map((row) => `${row.step_key} is ${row.status}`).join(', ');
      return {
        kind: 'no-step',
        reason: takers.length === 0 ? `no step of task ${wf.root.task_id} waits for signal "${signal.signal}"` : `no step of task ${wf.root.task_id} will wait for signal "${signal.signal}" any more (${done})`,
      };
    }
    const problems = checkPayload(wf.planned(target).wait_for?.payload ?? {}, signal.payload);
    if (problems.length > 0) return { kind: 'invalid', error: problems.join('; ') };
    const data = { signal: signal.signal, signal_id: signalId, ...sender };
    if (!waiting) {
      wf.signals.receive(signal.signal, signalId, signal.payload, sender, null);
      wf.record(HistoryKind.SignalReceived, target.step_key, { ...data, kept: true });
      return { kind: 'kept', step: target.step_key };
    }
    wf.signals.receive(signal.signal, signalId, signal.payload, sender, waiting.id);
    wf.record(HistoryKind.SignalReceived, waiting.step_key, data);
    await this.steps.resume(wf, waiting, signal.payload, { signal: signal.signal, signal_id: signalId });
    await this.steps.advance(wf);
    return { kind: 'delivered', step: waiting.step_key };
  }

  /** The rows of the plan's steps that wait for this signal, in plan order. */
  private takers(wf: Workflow, name: string): TaskRow[] {
    return wf.plan.steps.flatMap((planned) => (planned.wait_for?.signal === name ? (wf.steps.get(planned.id) ?? []) : []));
  }
}
