import { TaskStatus, type TaskProgressView } from '@orchestrator/contracts';

/** What a step's row tells of how it ended, whether read with its result or not. */
export interface TalliedRow {
  status: TaskStatus;
  attempts: number;
  item_count: number | null;
  started_at: Date | null;
  completed_at: Date | null;
  result?: Record<string, unknown> | null;
}

/**
 * A step a false `when` completed without sending it: no attempt, no items, `{ skipped: true }` as
 * its result. Without its result at hand, a step completed the instant it started is one.
 */
export function isSkippedRow(row: TalliedRow): boolean {
  if (row.status !== TaskStatus.Completed || row.attempts !== 0 || row.item_count !== null) return false;
  if (row.result !== undefined) return row.result?.['skipped'] === true;
  return row.started_at !== null && row.started_at.getTime() === row.completed_at?.getTime();
}

/** The progress of a workflow from the rows of its current plan's steps. */
export function tallySteps(rows: Iterable<TalliedRow>): TaskProgressView {
  const tally = { done: 0, skipped: 0, failed: 0, cancelled: 0, total: 0 };
  for (const row of rows) {
    tally.total += 1;
    if (row.status === TaskStatus.Failed) tally.failed += 1;
    else if (row.status === TaskStatus.Cancelled) tally.cancelled += 1;
    else if (isSkippedRow(row)) tally.skipped += 1;
    else if (row.status === TaskStatus.Completed) tally.done += 1;
  }
  return tally;
}

/**
 * The same tally in SQL, over the rows of `tasks` grouped by workflow: the rows of its current
 * plan's steps only (not items, not rows a revision retired). A result is looked into only for a
 * completed step with no attempt, so that no large result is read.
 */
export const STEP_TALLY_SQL = `
  count(*)::int AS total,
  count(*) FILTER (WHERE status = 'COMPLETED' AND NOT skipped)::int AS done,
  count(*) FILTER (WHERE skipped)::int AS skipped,
  count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
  count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled`;

/** Each step row of the workflows `$1` with whether it was skipped, for STEP_TALLY_SQL. */
export const TALLIED_ROWS_SQL = `
  SELECT root_id, status,
         CASE WHEN status = 'COMPLETED' AND attempts = 0 AND item_count IS NULL THEN COALESCE((result -> 'skipped') = 'true'::jsonb, false)
              ELSE false END AS skipped
    FROM tasks
   WHERE root_id = ANY($1::uuid[]) AND parent_id = root_id AND strpos(step_key, '@') = 0`;
