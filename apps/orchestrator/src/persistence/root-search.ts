import type { TaskStatus } from '@orchestrator/contracts';

/** What GET /tasks may ask of the workflows it lists; every condition given must hold. */
export interface RootSearch {
  status?: TaskStatus;
  task_type?: string;
  requester_id?: string;
  /** A step of the workflow was sent to this agent (its latest attempt). */
  agent?: string;
  /** Text in the workflow's error, in any case. */
  error?: string;
  /** Created at or after. */
  created_after?: Date;
  /** Created before. */
  created_before?: Date;
  /** Finished at or after. */
  finished_after?: Date;
  /** Finished before. */
  finished_before?: Date;
  /** Fields of the request's payload: for each, the payload contains one of these objects. */
  payload?: Record<string, unknown>[][];
}

/** `%`, `_` and `\` taken literally in a LIKE pattern. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The SQL conditions of a search of roots (`parent_id IS NULL` first), their values pushed onto
 * `params`. Each has an index among roots (see the migrations "listing and retention" and "task
 * search"), so that PostgreSQL may start from the most selective and keep the listing's order.
 */
export function rootSearchConditions(search: RootSearch, params: unknown[]): string[] {
  const where = ['parent_id IS NULL'];
  const param = (value: unknown): string => `$${params.push(value)}`;
  if (search.status) where.push(`status = ${param(search.status)}`);
  if (search.task_type) where.push(`task_type = ${param(search.task_type)}`);
  if (search.requester_id) where.push(`requester_id = ${param(search.requester_id)}`);
  if (search.created_after) where.push(`created_at >= ${param(search.created_after)}`);
  if (search.created_before) where.push(`created_at < ${param(search.created_before)}`);
  if (search.finished_after) where.push(`completed_at >= ${param(search.finished_after)}`);
  if (search.finished_before) where.push(`completed_at < ${param(search.finished_before)}`);
  if (search.error) where.push(`error IS NOT NULL AND error ILIKE ${param(`%${likeLiteral(search.error)}%`)}`);
  if (search.agent) {
    where.push(`EXISTS (SELECT 1 FROM tasks AS s WHERE s.agent_name = ${param(search.agent)} AND s.root_id = tasks.id AND s.parent_id IS NOT NULL)`);
  }
  for (const alternatives of search.payload ?? []) {
    where.push(`(${alternatives.map((object) => `payload @> ${param(JSON.stringify(object))}::jsonb`).join(' OR ')})`);
  }
  return where;
}
