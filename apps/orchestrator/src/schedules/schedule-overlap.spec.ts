import { OverlapPolicy } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { planTicks } from './schedule-overlap.js';

const ticks = (...seconds: number[]) => seconds.map((s) => ({ tick: new Date(s * 1000), taskId: `sched:s:${s * 1000}` }));
const outcomes = (plans: { outcome: string }[]): string[] => plans.map((plan) => plan.outcome);

describe('planTicks', () => {
  it('skip: starts a tick when nothing runs, skips the ticks that come while it runs', () => {
    expect(outcomes(planTicks(OverlapPolicy.Skip, ticks(1), { running: null, buffered: null }).plans)).toEqual(['started']);
    const busy = planTicks(OverlapPolicy.Skip, ticks(1, 2), { running: 'sched:s:0', buffered: null });
    expect(busy.plans.map((plan) => [plan.outcome, plan.reason])).toEqual([
      ['skipped', 'overlap skip: sched:s:0 still runs'],
      ['skipped', 'overlap skip: sched:s:0 still runs'],
    ]);
    // Several due at once with nothing running: the first runs, the others overlap it.
    expect(outcomes(planTicks(OverlapPolicy.Skip, ticks(1, 2, 3), { running: null, buffered: null }).plans)).toEqual(['started', 'skipped', 'skipped']);
  });

  it('buffer_one: one tick waits for the run to end, later ones are skipped', () => {
    const planned = planTicks(OverlapPolicy.BufferOne, ticks(1, 2, 3), { running: 'sched:s:0', buffered: null });
    expect(outcomes(planned.plans)).toEqual(['buffered', 'skipped', 'skipped']);
    expect(planned.state).toEqual({ running: 'sched:s:0', buffered: 'sched:s:1000' });
    expect(outcomes(planTicks(OverlapPolicy.BufferOne, ticks(4), planned.state).plans)).toEqual(['skipped']);
    expect(outcomes(planTicks(OverlapPolicy.BufferOne, ticks(1, 2), { running: null, buffered: null }).plans)).toEqual(['started', 'buffered']);
  });

  it('allow_all: every tick starts', () => {
    const planned = planTicks(OverlapPolicy.AllowAll, ticks(1, 2, 3), { running: 'sched:s:0', buffered: null });
    expect(outcomes(planned.plans)).toEqual(['started', 'started', 'started']);
    expect(planned.state.running).toBe('sched:s:3000');
  });

  it('cancel_other: the latest tick starts and cancels the run before it', () => {
    const planned = planTicks(OverlapPolicy.CancelOther, ticks(1, 2), { running: 'sched:s:0', buffered: null });
    expect(planned.plans.map((plan) => [plan.outcome, plan.cancels])).toEqual([
      ['skipped', null],
      ['started', 'sched:s:0'],
    ]);
    expect(planTicks(OverlapPolicy.CancelOther, ticks(1), { running: null, buffered: null }).plans[0]?.cancels).toBeNull();
  });

  it('counts a tick whose run exists already as started, whatever the policy', () => {
    const planned = planTicks(OverlapPolicy.Skip, ticks(1, 2), { running: 'sched:s:0', buffered: null }, new Set(['sched:s:1000']));
    expect(outcomes(planned.plans)).toEqual(['started', 'skipped']);
    expect(planned.plans[1]?.reason).toBe('overlap skip: sched:s:1000 still runs');
  });
});
