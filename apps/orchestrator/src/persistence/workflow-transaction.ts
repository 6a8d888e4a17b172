import type { QueryResultRow } from 'pg';
import type { Plan, ReplacedPlan } from '../planning/plan.js';
import { isCurrentKey } from './step-keys.js';
import type { TaskEntity } from './task.entity.js';
import type { NewTask, RootRow, TaskRow } from './task-rows.js';

/** The part of a pg client a transaction uses. */
export interface SqlClient {
  query<R extends QueryResultRow>(config: { name?: string; text: string; values?: unknown[] }): Promise<{ rows: R[] }>;
}

/** The columns of a TaskRow, of the table or of an alias of it. */
function rowColumns(alias = ''): string {
  const t = alias === '' ? '' : `${alias}.`;
  return [
    'id', 'parent_id', 'root_id', 'task_type', 'agent_name', 'status', 'attempts', 'max_attempts', 'next_attempt_at', 'deadline_at',
    'error', 'started_at', 'completed_at', 'updated_at', 'item_count', 'items_started', 'items_done', 'waiting_on',
  ].map((column) => `${t}${column}`).concat(`COALESCE(${t}step_key, '') AS step_key`).join(', ');
}

const ROW_COLUMNS = rowColumns();
const ROOT_COLUMNS = `${ROW_COLUMNS}, task_id, priority, requester_id, reply_to, trace_parent, depth,
  COALESCE((plan->>'revision')::int, 1) AS plan_revision, response_sent_at`;

/** Columns of an insert, with their types for unnest. */
const INSERT_COLUMNS = [
  ['id', 'uuid'], ['task_id', 'text'], ['parent_id', 'uuid'], ['root_id', 'uuid'], ['task_type', 'text'], ['step_key', 'text'],
  ['agent_name', 'text'], ['status', 'text'], ['priority', 'text'], ['attempts', 'int'], ['max_attempts', 'int'],
  ['next_attempt_at', 'timestamptz'], ['deadline_at', 'timestamptz'], ['payload', 'jsonb'], ['result', 'jsonb'], ['error', 'text'],
  ['requester_id', 'text'], ['reply_to', 'text'], ['plan', 'jsonb'], ['trace_parent', 'text'], ['started_at', 'timestamptz'],
  ['completed_at', 'timestamptz'], ['item_count', 'int'], ['items_started', 'int'], ['items_done', 'int'], ['waiting_on', 'text'],
  ['depth', 'int'],
] as const satisfies readonly (readonly [keyof NewTask, string])[];

/** What a transition may change in a row. `payload` and `result` keep their stored value where the row does not set them. */
const UPDATE_COLUMNS = [
  ['status', 'text'], ['agent_name', 'text'], ['attempts', 'int'], ['next_attempt_at', 'timestamptz'], ['deadline_at', 'timestamptz'],
  ['error', 'text'], ['started_at', 'timestamptz'], ['completed_at', 'timestamptz'], ['item_count', 'int'], ['items_started', 'int'],
  ['items_done', 'int'], ['waiting_on', 'text'], ['payload', 'jsonb'], ['result', 'jsonb'],
] as const satisfies readonly (readonly [keyof TaskRow, string])[];

const KEEP_STORED = new Set<string>(['payload', 'result']);

/** Arrays of a column's values, one per row: unnest turns them back into rows, so the statement's text never changes. */
function columnArrays<R>(rows: readonly R[], columns: readonly (readonly [string, string])[]): unknown[] {
  return columns.map(([column, type]) =>
    rows.map((row) => {
      const value = (row as Record<string, unknown>)[column];
      if (value === undefined || value === null) return null;
      // jsonb goes as JSON text: the driver would turn a JS array into a PostgreSQL array.
      return type === 'jsonb' ? JSON.stringify(value) : value;
    }),
  );
}

function unnestOf(columns: readonly (readonly [string, string])[]): string {
  return `unnest(${columns.map(([, type], i) => `$${i + 1}::${type === 'jsonb' ? 'text[]::jsonb[]' : `${type}[]`}`).join(', ')})`;
}

// created_at from the clock, row by row: rows made in one transaction keep the order they were made in (the sweeper's oldest-first).
const INSERT_SQL = `INSERT INTO tasks (${INSERT_COLUMNS.map(([c]) => c).join(', ')}, created_at) SELECT *, clock_timestamp() FROM ${unnestOf(INSERT_COLUMNS)}`;
const UPDATE_SQL = `UPDATE tasks AS t SET ${UPDATE_COLUMNS.map(([c]) => (KEEP_STORED.has(c) ? `${c} = COALESCE(v.${c}, t.${c})` : `${c} = v.${c}`)).join(', ')}, updated_at = now()
  FROM ${unnestOf([['id', 'uuid'], ...UPDATE_COLUMNS])} AS v(id, ${UPDATE_COLUMNS.map(([c]) => c).join(', ')})
 WHERE t.id = v.id`;

/** A row that was still running when its workflow (or its `for_each` step) was stopped: its agent is told, its slot freed. */
export interface StoppedRow {
  id: string;
  root_id: string;
  agent_name: string | null;
  attempts: number;
}

/** Where to stop unfinished rows: every step of a workflow, or the items of one `for_each` step. */
export interface StopScope {
  id: string;
  whole: boolean;
  reason: string;
}

/**
 * The queries of one transition, on one connection inside one transaction. Every workflow it
 * changes is locked first (its root row, in id order, so transactions that lock several never
 * deadlock), and read in later statements: under READ COMMITTED each statement sees what was
 * committed when it started, so a read that follows the lock sees every row the previous holder
 * of the lock wrote, inserted rows included.
 */
export class WorkflowTransaction {
  constructor(private readonly client: SqlClient) {}

  private async rows<R extends QueryResultRow>(name: string, text: string, values: unknown[]): Promise<R[]> {
    return (await this.client.query<R>({ name, text, values })).rows;
  }

  /** Locks the roots named, and those of the rows named; returns them. `skipLocked` leaves out roots another transaction holds. */
  lockRoots(rootIds: readonly string[], rowIds: readonly string[], skipLocked: boolean): Promise<RootRow[]> {
    const skip = skipLocked ? ' SKIP LOCKED' : '';
    return this.rows(
      `lock_roots${skipLocked ? '_skip' : ''}`,
      `SELECT ${ROOT_COLUMNS} FROM tasks
        WHERE parent_id IS NULL AND (id = ANY($1::uuid[]) OR id IN (SELECT root_id FROM tasks WHERE id = ANY($2::uuid[])))
        ORDER BY id FOR UPDATE${skip}`,
      [rootIds, rowIds],
    );
  }

  /** Inserts the roots of new workflows, but not those whose task_id is taken; returns the ids inserted. */
  async insertRoots(roots: readonly NewTask[]): Promise<Set<string>> {
    if (roots.length === 0) return new Set();
    // In task_id order, like every other transaction, so that two inserting the same ids wait rather than deadlock.
    const sorted = [...roots].sort((a, b) => (a.task_id < b.task_id ? -1 : a.task_id > b.task_id ? 1 : 0));
    const inserted = await this.rows<{ id: string }>(
      'insert_roots',
      `${INSERT_SQL} ON CONFLICT (task_id) WHERE parent_id IS NULL DO NOTHING RETURNING id`,
      columnArrays(sorted, INSERT_COLUMNS),
    );
    return new Set(inserted.map((row) => row.id));
  }

  /** The rows of the current plan's steps of these workflows (not their items), and the rows named. */
  async readRows(rootIds: readonly string[], rowIds: readonly string[]): Promise<TaskRow[]> {
    if (rootIds.length === 0 && rowIds.length === 0) return [];
    const rows = await this.rows<TaskRow>(
      'read_rows',
      `SELECT ${ROW_COLUMNS} FROM tasks WHERE parent_id = ANY($1::uuid[]) OR id = ANY($2::uuid[])`,
      [rootIds, rowIds],
    );
    const named = new Set(rowIds);
    return rows.filter((row) => named.has(row.id) || (row.parent_id === row.root_id && isCurrentKey(row.step_key)));
  }

  /** The rows of items of `for_each` steps, by parent and key, with their inputs. */
  itemsByKey(parentIds: readonly string[], keys: readonly string[]): Promise<(TaskRow & { payload: Record<string, unknown> })[]> {
    return this.rows(
      'items_by_key',
      `SELECT ${rowColumns('t')}, t.payload
         FROM tasks AS t JOIN unnest($1::uuid[], $2::text[]) AS k(parent_id, step_key) ON t.parent_id = k.parent_id AND t.step_key = k.step_key`,
      [parentIds, keys],
    );
  }

  /** The results of the items of `for_each` steps, keyed by parent. */
  itemResults(parentIds: readonly string[]): Promise<{ parent_id: string; step_key: string; result: Record<string, unknown> | null }[]> {
    return this.rows('item_results', `SELECT parent_id, step_key, result FROM tasks WHERE parent_id = ANY($1::uuid[])`, [parentIds]);
  }

  payloads(ids: readonly string[]): Promise<{ id: string; payload: Record<string, unknown> }[]> {
    return this.rows('payloads', `SELECT id, payload FROM tasks WHERE id = ANY($1::uuid[])`, [ids]);
  }

  results(ids: readonly string[]): Promise<{ id: string; result: Record<string, unknown> | null }[]> {
    return this.rows('results', `SELECT id, result FROM tasks WHERE id = ANY($1::uuid[])`, [ids]);
  }

  plans(rootIds: readonly string[]): Promise<{ id: string; plan: Plan }[]> {
    return this.rows('plans', `SELECT id, plan FROM tasks WHERE id = ANY($1::uuid[])`, [rootIds]);
  }

  async planHistory(rootId: string): Promise<ReplacedPlan[]> {
    const [row] = await this.rows<{ plan_history: ReplacedPlan[] | null }>('plan_history', `SELECT plan_history FROM tasks WHERE id = $1`, [rootId]);
    return row?.plan_history ?? [];
  }

  async insertRows(rows: readonly NewTask[]): Promise<void> {
    if (rows.length > 0) await this.rows('insert_rows', INSERT_SQL, columnArrays(rows, INSERT_COLUMNS));
  }

  /** Writes back what transitions changed in these rows, in one statement. */
  async updateRows(rows: readonly TaskRow[]): Promise<void> {
    if (rows.length > 0) await this.rows('update_rows', UPDATE_SQL, [rows.map((row) => row.id), ...columnArrays(rows, UPDATE_COLUMNS)]);
  }

  /**
   * Cancels the unfinished rows in each scope and clears every due time there; returns the rows
   * that were running, whose agents must be told and whose slots freed.
   */
  async stopUnfinished(scopes: readonly StopScope[], now: Date): Promise<StoppedRow[]> {
    if (scopes.length === 0) return [];
    const stopped = await this.rows<StoppedRow & { was: string }>(
      'stop_unfinished',
      `WITH scope AS (SELECT * FROM unnest($1::uuid[], $2::bool[], $3::text[]) AS s(id, whole, reason)),
            stale AS (
              SELECT t.id, t.status, t.agent_name, t.attempts, s.reason FROM tasks AS t JOIN scope AS s ON t.root_id = s.id
               WHERE s.whole AND t.parent_id IS NOT NULL
                 AND (t.status IN ('PENDING', 'RUNNING') OR t.deadline_at IS NOT NULL OR t.next_attempt_at IS NOT NULL)
              UNION ALL
              SELECT t.id, t.status, t.agent_name, t.attempts, s.reason FROM tasks AS t JOIN scope AS s ON t.parent_id = s.id
               WHERE NOT s.whole
                 AND (t.status IN ('PENDING', 'RUNNING') OR t.deadline_at IS NOT NULL OR t.next_attempt_at IS NOT NULL))
       UPDATE tasks AS t
          SET status = CASE WHEN x.status IN ('PENDING', 'RUNNING') THEN 'CANCELLED' ELSE t.status END,
              error = CASE WHEN x.status = 'RUNNING' THEN x.reason ELSE t.error END,
              completed_at = CASE WHEN x.status IN ('PENDING', 'RUNNING') THEN $4::timestamptz ELSE t.completed_at END,
              deadline_at = NULL, next_attempt_at = NULL, updated_at = now()
         FROM stale AS x
        WHERE t.id = x.id
    RETURNING t.id, t.root_id, x.agent_name, x.attempts, x.status AS was`,
      [scopes.map((s) => s.id), scopes.map((s) => s.whole), scopes.map((s) => s.reason), now],
    );
    return stopped.filter((row) => row.was === 'RUNNING');
  }

  /** Renames the rows of a workflow that a revised plan drops (every step but `kept`, items included) out of the way. */
  async retireRows(rootId: string, kept: readonly string[], revision: number): Promise<void> {
    await this.rows(
      'retire_rows',
      `UPDATE tasks SET step_key = step_key || '@' || $3::int, updated_at = now()
        WHERE root_id = $1 AND parent_id IS NOT NULL AND strpos(step_key, '@') = 0
          AND split_part(step_key, '[', 1) <> ALL($2::text[])`,
      [rootId, kept, revision],
    );
  }

  /** Roots whose final response was committed but not marked sent before `completedBefore`, oldest first, locked; skips those another replica holds. */
  lockUnsentResponses(completedBefore: Date, limit: number): Promise<TaskEntity[]> {
    return this.rows(
      'lock_unsent_responses',
      `SELECT * FROM tasks
        WHERE parent_id IS NULL AND completed_at IS NOT NULL AND response_sent_at IS NULL AND completed_at <= $1
        ORDER BY completed_at LIMIT $2
        FOR UPDATE SKIP LOCKED`,
      [completedBefore, limit],
    );
  }

  async markResponsesSent(rootIds: readonly string[]): Promise<void> {
    if (rootIds.length > 0) await this.rows('mark_responses_sent', `UPDATE tasks SET response_sent_at = now() WHERE id = ANY($1::uuid[])`, [rootIds]);
  }

  async replacePlan(rootId: string, plan: Plan, history: readonly ReplacedPlan[]): Promise<void> {
    await this.rows('replace_plan', `UPDATE tasks SET plan = $2::jsonb, plan_history = $3::jsonb, updated_at = now() WHERE id = $1`, [
      rootId,
      JSON.stringify(plan),
      JSON.stringify(history),
    ]);
  }
}
