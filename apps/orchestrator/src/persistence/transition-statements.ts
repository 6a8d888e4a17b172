import type { NewTask, TaskRow } from './task-rows.js';
import { arrayOf, type SqlType } from './sql-text.js';
import type { NewEvent, NewSignal } from './workflow-transaction.js';

/**
 * The statements of transitions, as SQL text: the columns they read and write, the workflows'
 * locks, and the statements each connection prepares once and runs by name inside the scripts of
 * `WorkflowTransaction`.
 */

/** The columns of a TaskRow, of the table or of an alias of it. */
export function rowColumns(alias = ''): string {
  const t = alias === '' ? '' : `${alias}.`;
  return [
    'id', 'parent_id', 'root_id', 'task_type', 'agent_name', 'status', 'attempts', 'max_attempts', 'next_attempt_at', 'deadline_at',
    'error', 'started_at', 'completed_at', 'updated_at', 'item_count', 'items_started', 'items_done', 'waiting_on',
    'queue_rank', 'usage', 'wait_key',
  ].map((column) => `${t}${column}`).concat(`COALESCE(${t}step_key, '') AS step_key`).join(', ');
}

const ROW_COLUMNS = rowColumns();
const ROOT_COLUMNS = `${ROW_COLUMNS}, task_id, priority, requester_id, reply_to, trace_parent, depth,
  plan_revision, response_sent_at, fairness_key, concurrency_key, budget, not_before`;

/** Columns of an insert, with their types for unnest. */
export const INSERT_COLUMNS = [
  ['id', 'uuid'], ['task_id', 'text'], ['parent_id', 'uuid'], ['root_id', 'uuid'], ['task_type', 'text'], ['step_key', 'text'],
  ['agent_name', 'text'], ['status', 'text'], ['priority', 'text'], ['attempts', 'int'], ['max_attempts', 'int'],
  ['next_attempt_at', 'timestamptz'], ['deadline_at', 'timestamptz'], ['payload', 'jsonb'], ['result', 'jsonb'], ['error', 'text'],
  ['requester_id', 'text'], ['reply_to', 'text'], ['plan', 'jsonb'], ['trace_parent', 'text'], ['started_at', 'timestamptz'],
  ['completed_at', 'timestamptz'], ['item_count', 'int'], ['items_started', 'int'], ['items_done', 'int'], ['waiting_on', 'text'],
  ['depth', 'int'], ['plan_revision', 'int'], ['request_hash', 'text'], ['queue_rank', 'float8'], ['fairness_key', 'text'], ['concurrency_key', 'text'],
  ['usage', 'jsonb'], ['budget', 'jsonb'], ['wait_key', 'text'], ['not_before', 'timestamptz'],
] as const satisfies readonly (readonly [keyof NewTask, SqlType])[];

/** What a transition may change in a row. `payload` and `result` keep their stored value where the row does not set them. */
export const UPDATE_COLUMNS = [
  ['status', 'text'], ['agent_name', 'text'], ['attempts', 'int'], ['max_attempts', 'int'], ['next_attempt_at', 'timestamptz'], ['deadline_at', 'timestamptz'],
  ['error', 'text'], ['started_at', 'timestamptz'], ['completed_at', 'timestamptz'], ['item_count', 'int'], ['items_started', 'int'],
  ['items_done', 'int'], ['waiting_on', 'text'], ['queue_rank', 'float8'], ['payload', 'jsonb'], ['result', 'jsonb'], ['usage', 'jsonb'], ['wait_key', 'text'],
] as const satisfies readonly (readonly [keyof TaskRow, SqlType])[];

const KEEP_STORED = new Set<string>(['payload', 'result']);

/** The columns of a signal as a transition inserts it. */
export const SIGNAL_COLUMNS = [
  ['root_id', 'uuid'], ['signal', 'text'], ['signal_id', 'text'], ['payload', 'jsonb'], ['sent_by', 'jsonb'], ['taken_by', 'uuid'],
] as const satisfies readonly (readonly [keyof NewSignal, SqlType])[];
const SIGNAL_LIST = SIGNAL_COLUMNS.map(([c]) => c).join(', ');

/**
 * The roots named and those of the rows named, as one array computed once (an init plan): the
 * statements that use it look their rows up by index, where an `IN (subquery)` beside an `OR`
 * would scan the table.
 */
const ROOTS_OF = `(ARRAY(SELECT root_id FROM tasks WHERE id = ANY($2::uuid[])) || $1::uuid[])`;
/** A workflow's lock: the first 64 bits of its root's id. */
export const LOCK_KEY = `('x' || left(replace(r.id::text, '-', ''), 16))::bit(64)::bigint`;
/**
 * The lock of a task_id among roots (`k`), taken by whatever creates a root under it or looks for
 * one that is not there yet: two keys (a space of their own, apart from the workflows' one-key locks).
 */
export const TASK_ID_LOCK = (taskId: string): string => `1, hashtext(${taskId})`;
const INSERT_LIST = INSERT_COLUMNS.map(([c]) => c).join(', ');
const STALE = `(t.status IN ('PENDING', 'RUNNING', 'WAITING') OR t.deadline_at IS NOT NULL OR t.next_attempt_at IS NOT NULL)`;

/** `unnest` over one array parameter per column, so that any number of rows is one statement. */
function unnestOf(columns: readonly (readonly [string, SqlType])[]): string {
  return `unnest(${columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')}) AS v(${columns.map(([c]) => c).join(', ')})`;
}

/**
 * created_at from the database's clock, row by row: rows made in one transaction keep the order
 * they were made in (the sweeper's oldest-first). A row started as it is made takes its started_at
 * from this replica's clock, read a moment before: never earlier than its created_at, and its
 * deadline moves with it, so that it is given the whole time it allows.
 */
const LATE_START = `GREATEST(created_at - started_at, interval '0')`;
const INSERT_VALUE: Partial<Record<string, string>> = {
  started_at: `CASE WHEN started_at IS NULL THEN NULL ELSE started_at + ${LATE_START} END`,
  deadline_at: `CASE WHEN started_at IS NULL OR deadline_at IS NULL THEN deadline_at ELSE deadline_at + ${LATE_START} END`,
};
const INSERT_VALUES = INSERT_COLUMNS.map(([c]) => INSERT_VALUE[c] ?? c).join(', ');
const INSERT_SQL = `INSERT INTO tasks (${INSERT_LIST}, created_at) SELECT ${INSERT_VALUES}, created_at FROM (SELECT *, clock_timestamp() AS created_at FROM ${unnestOf(INSERT_COLUMNS)}) AS v`;

/**
 * The statements of transitions, prepared on each connection once (`PREPARE`) and run by name
 * (`EXECUTE`) inside the scripts: planned once, yet sent several to a round trip. Their
 * parameters are arrays, one per column, so that one statement serves any number of rows.
 */
export const STATEMENTS = {
  // One lock per workflow, in id order (so that transactions locking several never deadlock); an
  // advisory lock, held until the transaction ends and written nowhere, where a row lock would
  // write the root's row at every event.
  lock_roots: {
    params: ['uuid', 'uuid'],
    sql: `SELECT id, pg_advisory_xact_lock(${LOCK_KEY}) FROM (SELECT DISTINCT unnest(${ROOTS_OF}) AS id ORDER BY 1) AS r`,
  },
  // The roots of those that no other transaction holds: the others are left for later.
  lock_free_roots: {
    params: ['uuid', 'uuid'],
    sql: `SELECT id FROM (SELECT DISTINCT unnest(${ROOTS_OF}) AS id ORDER BY 1) AS r WHERE pg_try_advisory_xact_lock(${LOCK_KEY})`,
  },
  // New roots are locked before they are inserted: whoever learns a new root's id before it commits
  // (a step it put in a line, popped by another transaction) waits for the commit.
  lock_new_roots: {
    params: ['uuid'],
    sql: `SELECT pg_advisory_xact_lock(${LOCK_KEY}) FROM (SELECT unnest($1::uuid[]) AS id ORDER BY 1) AS r`,
  },
  read_roots: {
    params: ['uuid', 'uuid'],
    sql: `SELECT ${ROOT_COLUMNS} FROM tasks WHERE parent_id IS NULL AND id = ANY(${ROOTS_OF})`,
  },
  read_rows: {
    params: ['uuid', 'uuid', 'uuid'],
    sql: `SELECT ${ROW_COLUMNS} FROM tasks WHERE parent_id = ANY(${ROOTS_OF}) OR id = ANY($3::uuid[])`,
  },
  insert_rows: {
    params: INSERT_COLUMNS.map(([, type]) => type),
    sql: INSERT_SQL,
  },
  // The task_ids of new roots, each locked in one order, so that two transactions creating one wait for each other.
  lock_task_ids: {
    params: ['text'],
    sql: `SELECT pg_advisory_xact_lock(${TASK_ID_LOCK('k')}) FROM (SELECT DISTINCT unnest($1::text[]) AS k ORDER BY 1) AS r`,
  },
  // Read once they are locked: which are taken by a root, and which a cancel came for before their workflow existed.
  read_task_ids: {
    params: ['text'],
    sql: `SELECT k AS task_id, EXISTS (SELECT 1 FROM tasks AS t WHERE t.parent_id IS NULL AND t.task_id = k) AS taken,
                 EXISTS (SELECT 1 FROM early_cancels AS c WHERE c.task_id = k) AS cancel_requested
            FROM unnest($1::text[]) AS k`,
  },
  update_rows: {
    params: ['uuid', ...UPDATE_COLUMNS.map(([, type]) => type)],
    sql: `UPDATE tasks AS t SET ${UPDATE_COLUMNS.map(([c]) => (KEEP_STORED.has(c) ? `${c} = COALESCE(v.${c}, t.${c})` : `${c} = v.${c}`)).join(', ')}, updated_at = now()
            FROM ${unnestOf([['id', 'uuid'], ...UPDATE_COLUMNS])} WHERE t.id = v.id`,
  },
  // The history rows of the batch, numbered in array order; each with the id of the event before it in its workflow's history
  // (read before the insert, under the workflow's lock: in one workflow, ids follow the order of commits).
  insert_events: {
    params: ['uuid', 'text', 'text', 'text', 'text', 'text', 'jsonb'],
    sql: `WITH v AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[])
                       WITH ORDINALITY AS v(root_id, task_id, task_type, step_id, kind, status, data, n)),
               prev AS (SELECT r.root_id, (SELECT max(e.id) FROM task_events AS e WHERE e.root_id = r.root_id) AS last
                          FROM (SELECT DISTINCT root_id FROM v) AS r),
               ins AS (INSERT INTO task_events (root_id, task_id, task_type, step_id, kind, status, data)
                       SELECT root_id, task_id, task_type, step_id, kind, status, data FROM v ORDER BY n
                       RETURNING id, root_id, at)
          SELECT ins.id, ins.at, COALESCE(lag(ins.id) OVER (PARTITION BY ins.root_id ORDER BY ins.id), p.last) AS prev_id
            FROM ins JOIN prev AS p ON p.root_id = ins.root_id ORDER BY ins.id`,
  },
  set_progress: {
    params: ['uuid', 'jsonb'],
    sql: `UPDATE tasks AS t SET progress = v.progress FROM unnest($1::uuid[], $2::jsonb[]) AS v(id, progress) WHERE t.id = v.id`,
  },
  // Attempts committed, not yet published: sent again by any replica unless marked sent soon.
  insert_unsent: {
    params: ['uuid', 'int'],
    sql: `INSERT INTO unsent_dispatches (row_id, attempt, since) SELECT row_id, attempt, clock_timestamp() FROM unnest($1::uuid[], $2::int[]) AS v(row_id, attempt)
          ON CONFLICT DO NOTHING`,
  },
  delete_early_cancels: {
    params: ['text'],
    sql: `DELETE FROM early_cancels WHERE task_id = ANY($1::text[])`,
  },
  // Workflows that run again: the result of their last run and the mark of its final response go
  // (before the rows are updated: a run that ends in the same transaction writes its result after).
  reopen_roots: {
    params: ['uuid'],
    sql: `UPDATE tasks SET result = NULL, response_sent_at = NULL WHERE id = ANY($1::uuid[]) AND parent_id IS NULL`,
  },
  // Signals a workflow received, in the order they came: taken by a step at once (taken_by set) or kept for one; a signal_id taken before is skipped.
  insert_signals: {
    params: SIGNAL_COLUMNS.map(([, type]) => type),
    sql: `INSERT INTO workflow_signals (${SIGNAL_LIST})
          SELECT ${SIGNAL_LIST} FROM unnest(${SIGNAL_COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')}) WITH ORDINALITY AS v(${SIGNAL_LIST}, n)
           ORDER BY n ON CONFLICT (root_id, signal_id) WHERE signal_id IS NOT NULL DO NOTHING`,
  },
  // Kept signals taken by the steps that began to wait for them.
  take_signals: {
    params: ['text', 'uuid'],
    sql: `UPDATE workflow_signals AS s SET taken_by = v.taken_by FROM unnest($1::text[], $2::uuid[]) AS v(id, taken_by) WHERE s.id = v.id::int8 AND s.taken_by IS NULL`,
  },
  // Cancels the unfinished rows of each scope, clears every due time there, and returns them with what they were.
  stop_unfinished: {
    params: ['uuid', 'bool', 'text', 'timestamptz'],
    sql: `WITH scope AS (SELECT * FROM unnest($1::uuid[], $2::bool[], $3::text[], $4::timestamptz[]) AS s(id, whole, reason, at)),
               stale AS (
                 SELECT t.id, t.status, t.agent_name, t.attempts, s.reason, s.at FROM tasks AS t JOIN scope AS s ON t.root_id = s.id
                  WHERE s.whole AND t.parent_id IS NOT NULL AND ${STALE}
                 UNION ALL
                 SELECT t.id, t.status, t.agent_name, t.attempts, s.reason, s.at FROM tasks AS t JOIN scope AS s ON t.parent_id = s.id
                  WHERE NOT s.whole AND ${STALE})
          UPDATE tasks AS t
             SET status = CASE WHEN x.status IN ('PENDING', 'RUNNING', 'WAITING') THEN 'CANCELLED' ELSE t.status END,
                 error = CASE WHEN x.status IN ('RUNNING', 'WAITING') THEN x.reason ELSE t.error END,
                 completed_at = CASE WHEN x.status IN ('PENDING', 'RUNNING', 'WAITING') THEN x.at ELSE t.completed_at END,
                 deadline_at = NULL, next_attempt_at = NULL, updated_at = now()
            FROM stale AS x
           WHERE t.id = x.id
       RETURNING t.id, t.root_id, x.agent_name, x.attempts, x.status AS was`,
  },
} as const satisfies Record<string, { params: readonly SqlType[]; sql: string }>;

export type StatementName = keyof typeof STATEMENTS;

export function prepareSql(name: StatementName): string {
  const { params, sql } = STATEMENTS[name];
  return `PREPARE ${name}(${params.map((type) => `${type}[]`).join(', ')}) AS ${sql}`;
}

/** `EXECUTE name(...)` with its arguments, arrays, written out. */
export function execute(name: StatementName, args: readonly (readonly unknown[])[]): string {
  const { params } = STATEMENTS[name];
  return `EXECUTE ${name}(${args.map((arg, i) => arrayOf(arg, params[i] ?? 'text')).join(', ')})`;
}

/** One array per column of `rows`, in the columns' order. */
export function columnsOf<R>(rows: readonly R[], columns: readonly (readonly [string, SqlType])[]): unknown[][] {
  return columns.map(([column]) => rows.map((row) => (row as Record<string, unknown>)[column]));
}

export const EVENT_COLUMNS = [
  ['root_id', 'uuid'], ['task_id', 'text'], ['task_type', 'text'], ['step_id', 'text'], ['kind', 'text'], ['status', 'text'], ['data', 'jsonb'],
] as const satisfies readonly (readonly [keyof NewEvent, SqlType])[];

