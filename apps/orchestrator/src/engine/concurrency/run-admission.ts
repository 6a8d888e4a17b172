import { Injectable } from '@nestjs/common';
import { HistoryKind, TaskStatus } from '@orchestrator/contracts';
import { shownConcurrencyKey, type ConcurrencyPolicy } from '../../planning/policies.js';
import { StepTransitions } from '../steps/step-transitions.js';
import type { Workflow } from '../workflow.js';

/** The most runs one new run supersedes at once (`cancel_in_progress`); more are left for the next. */
const SUPERSEDE_MAX = 1_000;

type Decision = { kind: 'start'; superseded: string[] } | { kind: 'queue'; running: number; superseded: string[] } | { kind: 'cancel'; running: number };

/** A keyed run's key (stored, and as its policy gave it) and policy. */
export function keyedRun(wf: Workflow): { key: string; shown: string; policy: ConcurrencyPolicy } | null {
  const key = wf.root.concurrency_key;
  const policy = wf.plan.concurrency;
  return key === null || !policy ? null : { key, shown: shownConcurrencyKey(key), policy };
}

/**
 * Whether a run of a workflow with `concurrency` may run now, decided under its key's lock (see
 * KeyGate) so that no more than `max_runs` runs of a key are RUNNING across replicas:
 * - `queue`: over the limit, it waits QUEUED until a run of its key ends;
 * - `cancel_newest`: over the limit, it is cancelled at once;
 * - `cancel_in_progress`: it supersedes the oldest runs of its key (cancelled after the commit,
 *   with the reason), keeping the `max_runs - 1` newest, and waits QUEUED until there is room.
 */
@Injectable()
export class RunAdmission {
  constructor(private readonly steps: StepTransitions) {}

  /** A new run with a concurrency key, inserted QUEUED (`announced`: a delayed one, whose `task_created` went out when it was stored). */
  async submitted(wf: Workflow, announced = false): Promise<void> {
    const keyed = keyedRun(wf);
    if (!keyed) return;
    const { key, shown, policy } = keyed;
    const decision = await wf.reads.gate.decide(wf, key, async (view): Promise<Decision> => {
      const running = await view.running();
      const superseded = policy.strategy === 'cancel_in_progress' ? (await view.others(policy.max_runs - 1 + SUPERSEDE_MAX)).slice(policy.max_runs - 1) : [];
      if (running < policy.max_runs) {
        wf.patch(wf.root, { status: TaskStatus.Running });
        return { kind: 'start', superseded };
      }
      return policy.strategy === 'cancel_newest' ? { kind: 'cancel', running } : { kind: 'queue', running, superseded };
    });
    const limit = `concurrency key "${shown}" (max_runs ${policy.max_runs})`;
    if (decision.kind !== 'cancel' && decision.superseded.length > 0) {
      wf.effects.push({ kind: 'supersede', rootIds: decision.superseded, reason: `cancelled: ${limit}: superseded by ${wf.root.task_id}` });
    }
    switch (decision.kind) {
      case 'start':
        await this.start(wf, announced);
        return;
      case 'queue':
        wf.record(HistoryKind.Queued, null, { key: shown, max_runs: policy.max_runs, running: decision.running });
        return;
      case 'cancel':
        await this.steps.cancelWorkflow(wf, `cancelled: ${limit}: ${decision.running} ${decision.running === 1 ? 'run is' : 'runs are'} in progress, and the newest is cancelled (cancel_newest)`);
    }
  }

  /**
   * A QUEUED run takes a slot of its key if there is one (true: it is RUNNING now, to start);
   * otherwise its mark is cleared and it waits for the next run of its key to end.
   */
  async takeSlot(wf: Workflow): Promise<boolean> {
    const keyed = keyedRun(wf);
    if (!keyed) return true;
    return wf.reads.gate.decide(wf, keyed.key, async (view) => {
      if ((await view.running()) < keyed.policy.max_runs) {
        wf.patch(wf.root, { status: TaskStatus.Running, next_attempt_at: null });
        return true;
      }
      wf.patch(wf.root, { next_attempt_at: null });
      return false;
    });
  }

  /** A run that is RUNNING now (its slot taken) starts: its lifecycle events, and its first steps. */
  async start(wf: Workflow, announced = false): Promise<void> {
    wf.effects.push({ kind: 'started', root: wf.root, announced });
    await this.steps.advance(wf);
  }
}
