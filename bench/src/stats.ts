/** Every side runs the five steps of create_blog_post. */
export const STEPS = 5;

/** One queue per step, for the sides built on a job queue. */
export const STEP_QUEUES = Array.from({ length: STEPS }, (_, i) => `bench-step-${i + 1}`);

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

export interface Throughput {
  workflows: number;
  seconds: number;
  workflowsPerSecond: number;
  stepsPerSecond: number;
}

export interface PerStep {
  runs: number;
  p50: number;
  p99: number;
}

/** What each side of the comparison measures, on workflows named after `run`. */
export interface ChainBench {
  throughput(count: number, run: string): Promise<Throughput>;
  perStep(runs: number, run: string): Promise<PerStep>;
}

/** Times `runAll`, which starts `count` workflows at once and resolves once all are done. */
export async function timeThroughput(count: number, runAll: () => Promise<void>): Promise<Throughput> {
  const started = performance.now();
  await runAll();
  const seconds = (performance.now() - started) / 1000;
  return { workflows: count, seconds, workflowsPerSecond: count / seconds, stepsPerSecond: (count * STEPS) / seconds };
}

/** Times `runOne` (one whole workflow) `runs` times in a row, per step. */
export async function timePerStep(runs: number, runOne: (index: number) => Promise<void>): Promise<PerStep> {
  const perStep: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await runOne(i);
    perStep.push((performance.now() - started) / STEPS);
  }
  return { runs, p50: percentile(perStep, 50), p99: percentile(perStep, 99) };
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
