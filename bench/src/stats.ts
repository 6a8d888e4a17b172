import { STEPS } from './chain.js';

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export interface Spread {
  p50: number;
  p90: number;
  p99: number;
}

export function spread(values: readonly number[]): Spread {
  return { p50: percentile(values, 50), p90: percentile(values, 90), p99: percentile(values, 99) };
}

/** A step as the process that ran it saw it: handler started, answer handed over (monotonic ns). */
export type StepSpan = readonly [start: number, end: number];

/** One workflow run alone: submitted and seen done by the client, and the spans of its steps (monotonic ns). */
export interface WorkflowTiming {
  submitted: number;
  done: number;
  spans: StepSpan[];
}

/** The monotonic clock (CLOCK_MONOTONIC, shared by every process of the machine), in nanoseconds. */
export function monotonicNs(): number {
  return Number(process.hrtime.bigint());
}

/**
 * Workflows run one at a time, in milliseconds. Every figure but `workflow` comes from the steps'
 * own spans: `perStep` has one sample per step after the first (a step answered to the next one
 * started), `firstStep` from the submit to the first step started, `lastStep` from the last step
 * answered to the client seeing the workflow done.
 */
export interface Latency {
  workflows: number;
  perStep: Spread;
  firstStep: Spread;
  lastStep: Spread;
  workflow: Spread;
  /** Each workflow, submit to done. */
  workflowTimes: number[];
  /** Workflows of which fewer or more than STEPS spans were seen (left out of the step figures). */
  unmatched: number;
}

const MS = 1e6;

/** Gives each workflow the spans that fall between its submit and its end (workflows ran one at a time). */
export function attachSpans(windows: readonly { submitted: number; done: number }[], spans: readonly StepSpan[]): WorkflowTiming[] {
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  let next = 0;
  return windows.map(({ submitted, done }) => {
    while (next < sorted.length && sorted[next][0] < submitted) next += 1;
    const own: StepSpan[] = [];
    while (next < sorted.length && sorted[next][0] <= done) own.push(sorted[next++]);
    return { submitted, done, spans: own };
  });
}

export function latencyOf(timings: readonly WorkflowTiming[]): Latency {
  const perStep: number[] = [];
  const firstStep: number[] = [];
  const lastStep: number[] = [];
  let unmatched = 0;
  for (const { submitted, done, spans } of timings) {
    if (spans.length !== STEPS) {
      unmatched += 1;
      continue;
    }
    firstStep.push((spans[0][0] - submitted) / MS);
    for (let i = 1; i < spans.length; i++) perStep.push((spans[i][0] - spans[i - 1][1]) / MS);
    lastStep.push((done - spans[spans.length - 1][1]) / MS);
  }
  const workflowTimes = timings.map(({ submitted, done }) => (done - submitted) / MS);
  return {
    workflows: timings.length,
    perStep: spread(perStep),
    firstStep: spread(firstStep),
    lastStep: spread(lastStep),
    workflow: spread(workflowTimes),
    workflowTimes,
    unmatched,
  };
}

/** `done` resolves once `tick` has been called `count` times. */
export function countdown(count: number): { tick: () => void; done: Promise<void> } {
  let left = count;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  if (left <= 0) resolveDone();
  return {
    tick: () => {
      left -= 1;
      if (left === 0) resolveDone();
    },
    done,
  };
}
