import { HistoryKind } from '@orchestrator/contracts';
import type { QueryResultRow } from 'pg';
import type { Plan, ReplacedPlan } from '../planning/plan.js';
import { arrayOf, literal, type SqlType } from './sql-text.js';
import { isCurrentKey, RETIRED_MARK, retiredKey } from './step-keys.js';
import type { StepProgress, TaskEntity } from './task.entity.js';
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
    'queue_rank', 'usage', 'wait_key',
  ].map((column) => `${t}${column}`).concat(`COALESCE(${t}step_key, '') AS step_key`).join(', ');
}

const ROW_COLUMNS = rowColumns();
const ROOT_COLUMNS = `${ROW_COLUMNS}, task_id, priority, requester_id, reply_to, trace_parent, depth,
  plan_revision, response_sent_at, fairness_key, concurrency_key, budget, not_before`;

/** Columns of an insert, with their types for unnest. */
const INSERT_COLUMNS = [
  ['id', 'uuid'], ['task_id', 'text'], ['parent_id', 'uuid'], ['root_id', 'uuid'], ['task_type', 'text'], ['step_key', 'text'],
  ['agent_name', 'text'], ['status', 'text'], ['priority', 'text'], ['attempts', 'int'], ['max_attempts', 'int'],
  ['next_attempt_at', 'timestamptz'], ['deadline_at', 'timestamptz'], ['payload', 'jsonb'], ['result', 'jsonb'], ['error', 'text'],
  ['requester_id', 'text'], ['reply_to', 'text'], ['plan', 'jsonb'], ['trace_parent', 'text'], ['started_at', 'timestamptz'],
  ['completed_at', 'timestamptz'], ['item_count', 'int'], ['items_started', 'int'], ['items_done', 'int'], ['waiting_on', 'text'],
  ['depth', 'int'], ['plan_revision', 'int'], ['request_hash', 'text'], ['queue_rank', 'float8'], ['fairness_key', 'text'], ['concurrency_key', 'text'],
  ['usage', 'jsonb'], ['budget', 'jsonb'], ['wait_key', 'text'], ['not_before', 'timestamptz'],
] as const satisfies readonly (readonly [keyof NewTask, SqlType])[];

/** What a transition may change in a row. `payload` and `result` keep their stored value where the row does not set them. */
const UPDATE_COLUMNS = [
  ['status', 'text'], ['agent_name', 'text'], ['attempts', 'int'], ['max_attempts', 'int'], ['next_attempt_at', 'timestamptz'], ['deadline_at', 'timestamptz'],
  ['error', 'text'], ['started_at', 'timestamptz'], ['completed_at', 'timestamptz'], ['item_count', 'int'], ['items_started', 'int'],
  ['items_done', 'int'], ['waiting_on', 'text'], ['queue_rank', 'float8'], ['payload', 'jsonb'], ['result', 'jsonb'], ['usage', 'jsonb'], ['wait_key', 'text'],
] as const satisfies readonly (readonly [keyof TaskRow, SqlType])[];

const KEEP_STORED = new Set<string>(['payload', 'result']);

/** The columns of a signal as a transition inserts it. */
const SIGNAL_COLUMNS = [
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
const LOCK_KEY = `('x' || left(replace(r.id::text, '-', ''), 16))::bit(64)::bigint`;
const INSERT_LIST = INSERT_COLUMNS.map(([c]) => c).join(', ');
const STALE = `(t.status IN ('PENDING', 'RUNNING', 'WAITING') OR t.deadline_at IS NOT NULL OR t.next_attempt_at IS NOT NULL)`;

/** `unnest` over one array parameter per column, so that any number of rows is one statement. */
function unnestOf(columns: readonly (readonly [string, SqlType])[]): string {
  return `unnest(${columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')}) AS v(${columns.map(([c]) => c).join(', ')})`;
}

// created_at from the clock, row by row: rows made in one transaction keep the order they were made in (the sweeper's oldest-first).
const INSERT_SQL = `INSERT INTO tasks (${INSERT_LIST}, created_at) SELECT ${INSERT_LIST}, clock_timestamp() FROM ${unnestOf(INSERT_COLUMNS)}`;

/**
 * The statements of transitions, prepared on each connection once (`PREPARE`) and run by name
 * (`EXECUTE`) inside the scripts: planned once, yet sent several to a round trip. Their
 * parameters are arrays, one per column, so that one statement serves any number of rows.
 */
const STATEMENTS = {
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
  insert_roots: {
    params: INSERT_COLUMNS.map(([, type]) => type),
    sql: `${INSERT_SQL} ON CONFLICT (task_id) WHERE parent_id IS NULL DO NOTHING RETURNING id`,
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
  // Workflows that run again: the result of their last run and the mark of its final response go.
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

type StatementName = keyof typeof STATEMENTS;

function prepareSql(name: StatementName): string {
  const { params, sql } = STATEMENTS[name];
  return `PREPARE ${name}(${params.map((type) => `${type}[]`).join(', ')}) AS ${sql}`;
}

/** Connections whose statements are prepared. */
const prepared = new WeakSet<object>();

/** `EXECUTE name(...)` with its arguments, arrays, written out. */
function execute(name: StatementName, args: readonly (readonly unknown[])[]): string {
  const { params } = STATEMENTS[name];
  return `EXECUTE ${name}(${args.map((arg, i) => arrayOf(arg, params[i] ?? 'text')).join(', ')})`;
}

/** One array per column of `rows`, in the columns' order. */
function columnsOf<R>(rows: readonly R[], columns: readonly (readonly [string, SqlType])[]): unknown[][] {
  return columns.map(([column]) => rows.map((row) => (row as Record<string, unknown>)[column]));
}

/** An `answer_sent` event as inserted, with the id of the one before it in its workflow's history. */
export interface SentEventRow {
  id: string;
  root_id: string;
  task_id: string;
  task_type: string;
  status: string;
  at: Date;
  prev_id: string | null;
}

/**
 * Marks the final responses of these roots sent (those not marked yet, locked in id order, so that
 * two replicas marking the same roots wait for each other rather than deadlock), each with its
 * `answer_sent` event, in one statement.
 */
export const MARK_RESPONSES_SENT_SQL = `
  WITH marked AS (
         UPDATE tasks SET response_sent_at = now()
          WHERE id IN (SELECT id FROM tasks WHERE id = ANY($1::uuid[]) AND response_sent_at IS NULL ORDER BY id FOR UPDATE)
      RETURNING id, task_id, task_type, status),
       ins AS (
         INSERT INTO task_events (root_id, task_id, task_type, kind, status)
         SELECT id, task_id, task_type, '${HistoryKind.AnswerSent}', status FROM marked ORDER BY id
      RETURNING id, root_id, task_id, task_type, status, at)
  SELECT ins.*, (SELECT max(e.id) FROM task_events AS e WHERE e.root_id = ins.root_id) AS prev_id FROM ins`;

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

/** What a transition opens: the workflows to lock, the rows to read besides their steps', new roots. */
export interface OpenSpec {
  /** Roots to lock, waiting for another transaction that holds one. */
  waitFor: readonly string[];
  /** Roots to lock unless another transaction holds them. */
  skipIfHeld: readonly string[];
  /** Rows whose roots to lock, waiting (answered rows: their workflow is known by them alone). */
  rootsOfRows: readonly string[];
  /** Rows to read besides the current plan's steps (answered or due rows). */
  rowIds: readonly string[];
  newRoots: readonly NewTask[];
}

export interface Opened {
  /** The roots locked: those named, and those of the rows named. */
  roots: RootRow[];
  /** The ids of the new roots inserted (not those whose task_id was taken). */
  inserted: Set<string>;
  /** The rows of the locked workflows' current plan steps (not their items), and the rows named. */
  rows: TaskRow[];
}

/** A history row to insert. */
export interface NewEvent {
  root_id: string;
  task_id: string;
  task_type: string;
  step_id: string | null;
  kind: string;
  status: string;
  data: Record<string, unknown> | null;
}

/** A history row inserted: its id, its time, and the id of the event before it in its workflow's history. */
export interface InsertedEvent {
  id: number;
  at: Date;
  prev_id: number | null;
}

/** A signal as stored: taken by the step `taken_by` names, or kept (null) for a step that does not wait yet. */
export interface NewSignal {
  root_id: string;
  signal: string;
  signal_id: string | null;
  payload: Record<string, unknown>;
  sent_by: Record<string, unknown> | null;
  taken_by: string | null;
}

/** A kept signal, as a step that begins to wait for it reads it. */
export interface KeptSignal {
  id: string;
  signal: string;
  signal_id: string | null;
  payload: Record<string, unknown>;
  sent_by: Record<string, unknown> | null;
}

/** What a transition writes when it closes. */
export interface Changes {
  update: readonly TaskRow[];
  insert: readonly NewTask[];
  revisions: readonly { rootId: string; plan: Plan; history: readonly ReplacedPlan[]; kept: readonly string[]; retiredRevision: number }[];
  stops: readonly StopScope[];
  /** History rows, in the order they happened. */
  events?: readonly NewEvent[];
  progress?: readonly { id: string; progress: StepProgress }[];
  /** Roots that run again (a retry). */
  reopened?: readonly string[];
  /** Signals received, and kept signals taken by steps (`id` → the step's row). */
  signals?: { insert: readonly NewSignal[]; take: readonly { id: string; taken_by: string }[] };
  now: Date;
}

export interface Closed {
  stopped: StoppedRow[];
  /** One per event given, in the same order. */
  events: InsertedEvent[];
}

const EVENT_COLUMNS = [
  ['root_id', 'uuid'], ['task_id', 'text'], ['task_type', 'text'], ['step_id', 'text'], ['kind', 'text'], ['status', 'text'], ['data', 'jsonb'],
] as const satisfies readonly (readonly [keyof NewEvent, SqlType])[];

type Result = { rows: QueryResultRow[] };

/**
 * The queries of one transition, on one connection inside one transaction, in two round trips:
 * `open` begins it, locks every workflow it changes (an advisory lock per root id, in id order,
 * so that transactions locking several never deadlock) and reads them; `close` writes every change and commits.
 * Under READ COMMITTED each statement sees what was committed when it started, so the read that
 * follows the lock sees every row the previous holder of the lock wrote, inserted rows included;
 * the statements go together, but each is a statement of its own. What a transition needs beyond
 * that (results, inputs, plans it has not kept) is read in between, by parameterized queries.
 */
export class WorkflowTransaction {
  private open_ = false;

  constructor(private readonly client: SqlClient) {}

  /** True between `open` and `close` (or a failure). */
  get isOpen(): boolean {
    return this.open_;
  }

  private async rows<R extends QueryResultRow>(name: string, text: string, values: unknown[]): Promise<R[]> {
    return (await this.client.query<R>({ name, text, values })).rows;
  }

  /** Several statements in one round trip; their results in order. */
  private async script(statements: readonly string[]): Promise<Result[]> {
    const out = (await this.client.query({ text: statements.join(';\n') })) as Result | Result[];
    return Array.isArray(out) ? out : [out];
  }

  /** Prepares the statements on this connection the first time it runs a transition (those it lacks: it may have prepared some before failing). */
  private async prepare(): Promise<void> {
    if (prepared.has(this.client)) return;
    const names = Object.keys(STATEMENTS) as StatementName[];
    const { rows } = await this.client.query<{ name: string }>({ text: `SELECT name FROM pg_prepared_statements WHERE name = ANY(${arrayOf(names, 'text')})` });
    const missing = names.filter((name) => !rows.some((row) => row.name === name));
    if (missing.length > 0) await this.script(missing.map(prepareSql));
    prepared.add(this.client);
  }

  async open(spec: OpenSpec): Promise<Opened> {
    await this.prepare();
    // Plans made once per connection: each statement's shape does not change with the size of its arrays.
    const statements = ['BEGIN', 'SET LOCAL plan_cache_mode = force_generic_plan'];
    const locks: number[] = [];
    if (spec.waitFor.length + spec.rootsOfRows.length > 0) locks.push(statements.push(execute('lock_roots', [spec.waitFor, spec.rootsOfRows])) - 1);
    if (spec.skipIfHeld.length > 0) locks.push(statements.push(execute('lock_free_roots', [spec.skipIfHeld, []])) - 1);
    // In task_id order, like every other transaction, so that two inserting the same ids wait rather than deadlock.
    const sorted = [...spec.newRoots].sort((a, b) => (a.task_id < b.task_id ? -1 : a.task_id > b.task_id ? 1 : 0));
    if (sorted.length > 0) statements.push(execute('lock_new_roots', [sorted.map((root) => root.id)]));
    const insertAt = sorted.length > 0 ? statements.push(execute('insert_roots', columnsOf(sorted, INSERT_COLUMNS))) - 1 : -1;
    // Read once locked, in statements of their own: they see all that the lock's last holder committed.
    const roots = [...spec.waitFor, ...spec.skipIfHeld];
    const rootsAt = locks.length > 0 ? statements.push(execute('read_roots', [roots, spec.rootsOfRows])) - 1 : -1;
    const readAt = locks.length > 0 ? statements.push(execute('read_rows', [roots, spec.rootsOfRows, spec.rowIds])) - 1 : -1;
    this.open_ = true;
    const results = await this.script(statements);
    const lockedIds = new Set(locks.flatMap((at) => (results[at]?.rows ?? []).map((row) => String(row['id']))));
    const locked = ((rootsAt < 0 ? [] : (results[rootsAt]?.rows ?? [])) as RootRow[]).filter((root) => lockedIds.has(root.id));
    const named = new Set(spec.rowIds);
    const rows = ((readAt < 0 ? [] : (results[readAt]?.rows ?? [])) as TaskRow[]).filter(
      (row) => lockedIds.has(row.root_id) && (named.has(row.id) || (row.parent_id === row.root_id && isCurrentKey(row.step_key))),
    );
    const inserted = new Set((insertAt < 0 ? [] : (results[insertAt]?.rows ?? [])).map((row) => String(row['id'])));
    return { roots: locked, inserted, rows };
  }

  /**
   * Writes what the transition changed and commits: rows changed, revised plans (their dropped
   * rows retired), rows added, and the unfinished rows in each stop scope cancelled (every due time
   * there cleared). Returns the stopped rows that were running, whose agents must be told and
   * whose slots freed.
   */
  async close(changes: Changes): Promise<Closed> {
    const statements: string[] = [];
    const { events = [], progress = [], reopened = [] } = changes;
    if (changes.update.length > 0) {
      statements.push(execute('update_rows', [changes.update.map((row) => row.id), ...columnsOf(changes.update, UPDATE_COLUMNS)]));
    }
    for (const revision of changes.revisions) {
      statements.push(
        `UPDATE tasks SET step_key = step_key || ${literal(retiredKey('', revision.retiredRevision), 'text')}, updated_at = now()
          WHERE root_id = ${literal(revision.rootId, 'uuid')} AND parent_id IS NOT NULL AND strpos(step_key, ${literal(RETIRED_MARK, 'text')}) = 0
            AND split_part(step_key, '[', 1) <> ALL(${arrayOf(revision.kept, 'text')})`,
        `UPDATE tasks SET plan = ${literal(revision.plan, 'jsonb')}, plan_history = ${literal(revision.history, 'jsonb')},
                plan_revision = ${literal(revision.plan.revision ?? 1, 'int')}, updated_at = now()
          WHERE id = ${literal(revision.rootId, 'uuid')}`,
      );
    }
    if (changes.insert.length > 0) statements.push(execute('insert_rows', columnsOf(changes.insert, INSERT_COLUMNS)));
    if (reopened.length > 0) statements.push(execute('reopen_roots', [reopened]));
    const { signals } = changes;
    if (signals && signals.insert.length > 0) statements.push(execute('insert_signals', columnsOf(signals.insert, SIGNAL_COLUMNS)));
    if (signals && signals.take.length > 0) statements.push(execute('take_signals', [signals.take.map((t) => t.id), signals.take.map((t) => t.taken_by)]));
    if (progress.length > 0) statements.push(execute('set_progress', [progress.map((p) => p.id), progress.map((p) => p.progress)]));
    const eventsAt = events.length > 0 ? statements.push(execute('insert_events', columnsOf(events, EVENT_COLUMNS))) - 1 : -1;
    const { stops } = changes;
    const stopAt =
      stops.length > 0
        ? statements.push(execute('stop_unfinished', [stops.map((s) => s.id), stops.map((s) => s.whole), stops.map((s) => s.reason), stops.map(() => changes.now)])) - 1
        : -1;
    statements.push('COMMIT');
    const results = await this.script(statements);
    this.open_ = false;
    const stopped = (stopAt < 0 ? [] : (results[stopAt]?.rows ?? [])) as (StoppedRow & { was: string })[];
    const inserted = (eventsAt < 0 ? [] : (results[eventsAt]?.rows ?? [])) as { id: string; at: Date; prev_id: string | null }[];
    return {
      stopped: stopped.filter((row) => row.was === 'RUNNING'),
      events: inserted.map((row) => ({ id: Number(row.id), at: row.at, prev_id: row.prev_id === null ? null : Number(row.prev_id) })),
    };
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

  /** The signals kept for steps of these workflows (not taken yet), in the order they came. */
  keptSignals(rootIds: readonly string[]): Promise<(KeptSignal & { root_id: string })[]> {
    return this.rows(
      'kept_signals',
      `SELECT id::text AS id, root_id, signal, signal_id, payload, sent_by FROM workflow_signals WHERE root_id = ANY($1::uuid[]) AND taken_by IS NULL ORDER BY id`,
      [rootIds],
    );
  }

  /** True when the workflow has received a signal with this signal_id. */
  async signalSeen(rootId: string, signalId: string): Promise<boolean> {
    return (await this.rows('signal_seen', `SELECT 1 FROM workflow_signals WHERE root_id = $1 AND signal_id = $2`, [rootId, signalId])).length > 0;
  }

  /**
   * The oldest event of this name kept since `since` whose fields contain `match` (the caller checks
   * equality: containment is looser for lists and objects), a few of them at most.
   */
  keptEvents(event: string, since: Date, match: Record<string, unknown>): Promise<{ payload: Record<string, unknown> }[]> {
    return this.rows(
      'kept_events',
      `SELECT payload FROM external_events WHERE event = $1 AND received_at >= $2 AND payload @> $3::jsonb ORDER BY received_at, id LIMIT 20`,
      [event, since, JSON.stringify(match)],
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

  /** Marks final responses sent, with an `answer_sent` event each; returns the events. */
  async markResponsesSent(rootIds: readonly string[]): Promise<SentEventRow[]> {
    if (rootIds.length === 0) return [];
    return this.rows('mark_responses_sent', MARK_RESPONSES_SENT_SQL, [rootIds]);
  }

  /**
   * Takes the locks of concurrency keys (their hashes, see keyLockId), in increasing order, held
   * until the transaction ends: waiting for them, or (`wait` false) only if they are all free
   * (false when one is not).
   */
  async lockKeys(locks: readonly number[], wait: boolean): Promise<boolean> {
    const take = wait ? 'pg_advisory_xact_lock' : 'pg_try_advisory_xact_lock';
    const [row] = await this.rows<{ locked: boolean }>(
      wait ? 'lock_keys' : 'try_lock_keys',
      // The waiting form returns void, which reads as an empty text.
      `SELECT bool_and(${take}(${KEY_LOCK_CLASS}, id)${wait ? `::text = ''` : ''}) AS locked FROM (SELECT DISTINCT unnest($1::int[]) AS id ORDER BY 1) AS s`,
      [locks],
    );
    return row?.locked === true;
  }

  /** Runs of a concurrency key that are RUNNING, leaving out `except` (counted from memory). */
  async countRunning(key: string, except: readonly string[]): Promise<number> {
    const [row] = await this.rows<{ n: number }>(
      'count_running_of_key',
      `SELECT count(*)::int AS n FROM tasks WHERE parent_id IS NULL AND status = 'RUNNING' AND concurrency_key = $1 AND id <> ALL($2::uuid[])`,
      [key, except],
    );
    return row?.n ?? 0;
  }

  /**
   * Marks the `limit` oldest QUEUED runs of a key, leaving out `except` and runs another
   * transaction holds, due for a look at `at`; returns their ids.
   */
  async markQueued(key: string, limit: number, except: readonly string[], at: Date): Promise<string[]> {
    const rows = await this.rows<{ id: string }>(
      'mark_queued_of_key',
      `UPDATE tasks SET next_attempt_at = $4 WHERE id IN (
         SELECT id FROM tasks WHERE parent_id IS NULL AND status = 'QUEUED' AND concurrency_key = $1 AND id <> ALL($3::uuid[])
          ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [key, limit, except, at],
    );
    return rows.map((row) => row.id);
  }

  /** The unfinished runs of a key (RUNNING or QUEUED), newest first, leaving out `except`. */
  async unfinishedRuns(key: string, except: readonly string[], limit: number): Promise<{ id: string }[]> {
    return this.rows(
      'unfinished_runs_of_key',
      `SELECT id FROM tasks WHERE parent_id IS NULL AND status IN ('RUNNING', 'QUEUED') AND concurrency_key = $1 AND id <> ALL($2::uuid[])
        ORDER BY created_at DESC, id DESC LIMIT $3`,
      [key, except, limit],
    );
  }
}

/**
 * Concurrency keys are locked with the two-number form of advisory locks, whose space is apart
 * from the one-number locks of workflows: this number, and the key's hash.
 */
const KEY_LOCK_CLASS = 1_668_247_139;
