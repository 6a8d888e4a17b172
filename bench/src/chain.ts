/** Every side runs the five steps of create_blog_post. */
export const STEPS = 5;

/** One queue per step, for the sides built on a job queue; `prefix` keeps two sides on one server apart. */
export function stepQueues(prefix = 'bench-step'): string[] {
  return Array.from({ length: STEPS }, (_, i) => `${prefix}-${i + 1}`);
}

/** graphile-worker's task for step `step` (from 0). */
export function graphileTask(step: number): string {
  return `bench_step_${step + 1}`;
}
