import { OverlapPolicy, type ScheduleRunOutcome } from '@orchestrator/contracts';

/** What one tick leads to. */
export interface TickPlan {
  tick: Date;
  taskId: string;
  outcome: Exclude<ScheduleRunOutcome, 'failed'>;
  reason: string | null;
  /** cancel_other: the run to cancel before this one starts. */
  cancels: string | null;
}

/** What the overlap policy looks at: the last run, while it runs, and the run of a tick waiting for it to end. */
export interface OverlapState {
  running: string | null;
  buffered: string | null;
}

/**
 * Decides the ticks of one pass, oldest first, under the schedule's overlap policy. A tick whose
 * run exists already (a replica that submitted it died before recording it) counts as started,
 * whatever the policy says now. With cancel_other, of several ticks due at once only the latest
 * starts: each would cancel the one before.
 */
export function planTicks(
  policy: OverlapPolicy,
  ticks: readonly { tick: Date; taskId: string }[],
  state: OverlapState,
  existing: ReadonlySet<string> = new Set(),
): { plans: TickPlan[]; state: OverlapState } {
  let { running, buffered } = state;
  const plans = ticks.map(({ tick, taskId }, i): TickPlan => {
    const plan = (outcome: TickPlan['outcome'], reason: string | null = null, cancels: string | null = null): TickPlan => ({ tick, taskId, outcome, reason, cancels });
    if (existing.has(taskId)) {
      running = taskId;
      return plan('started');
    }
    switch (policy) {
      case OverlapPolicy.AllowAll:
        running = taskId;
        return plan('started');
      case OverlapPolicy.Skip:
        if (running !== null) return plan('skipped', `overlap skip: ${running} still runs`);
        running = taskId;
        return plan('started');
      case OverlapPolicy.BufferOne:
        if (running === null) {
          running = taskId;
          return plan('started');
        }
        if (buffered !== null) return plan('skipped', `overlap buffer_one: ${running} still runs and a tick waits already`);
        buffered = taskId;
        return plan('buffered', `waits for ${running} to end`);
      case OverlapPolicy.CancelOther: {
        if (i < ticks.length - 1) return plan('skipped', 'overlap cancel_other: a later tick came in the same pass');
        const cancels = running;
        running = taskId;
        return plan('started', null, cancels);
      }
    }
  });
  return { plans, state: { running, buffered } };
}
