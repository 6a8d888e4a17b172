import { HistoryKind } from '@orchestrator/contracts';
import type { QueryResultRow } from 'pg';
import type { Plan, ReplacedPlan } from '../planning/plan.js';
import { arrayOf, literal } from './sql-text.js';
import { isCurrentKey, RETIRED_MARK, retiredKey } from './step-keys.js';
import type { StepProgress, TaskEntity } from './task.entity.js';
import type { NewTask, RootRow, TaskRow } from './task-rows.js';
import { columnsOf, EVENT_COLUMNS, execute, INSERT_COLUMNS, prepareSql, rowColumns, SIGNAL_COLUMNS, STATEMENTS, UPDATE_COLUMNS, type StatementName } from './transition-statements.js';

/** The part of a pg client a transaction uses. */
export interface SqlClient {
  query<R extends QueryResultRow>(config: { name?: string; text: string; values?: unknown[] }): Promise<{ rows: R[] }>;
}

/** Connections whose statements are prepared. */
const prepared = new WeakSet<object>();

/**
 * Retires the current rows of a workflow whose plan step matches `stepsMatch` (`= ANY(...)` or
 * `<> ALL(...)`), items included: their keys get `mark`, so they stay for the record and no
 * transition reads them as the plan's.
 */
function retireRows(rootId: string, mark: string, stepsMatch: string): string {
  return `UPDATE tasks SET step_key = step_key || ${literal(mark, 'text')}, updated_at = now()
           WHERE root_id = ${literal(rootId, 'uuid')} AND parent_id IS NOT NULL AND strpos(step_key, ${literal(RETIRED_MARK, 'text')}) = 0
             AND split_part(step_key, '[', 1) ${stepsMatch}`;
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

/** A run of a workflow whose final response was sent: its root, and when that run finished. */
export interface FinishedRun {
  id: string;
  completed_at: Date | null;
}

/**
 * Marks the final responses of these runs sent (those not marked yet, of the run that finished at
 * that time: a mark that comes late never marks the next run's; locked in id order, so that two
 * replicas marking the same roots wait for each other rather than deadlock), each with its
 * `answer_sent` event, in one statement.
 */
export const MARK_RESPONSES_SENT_SQL = `
  WITH marked AS (
         UPDATE tasks SET response_sent_at = now()
          WHERE id IN (SELECT t.id FROM tasks AS t JOIN unnest($1::uuid[], $2::timestamptz[]) AS v(id, completed_at)
                          ON t.id = v.id AND date_trunc('milliseconds', t.completed_at) = v.completed_at
                        WHERE t.response_sent_at IS NULL ORDER BY t.id FOR UPDATE OF t)
            AND response_sent_at IS NULL
      RETURNING id, task_id, task_type, status),
       ins AS (
         INSERT INTO task_events (root_id, task_id, task_type, kind, status)
         SELECT id, task_id, task_type, '${HistoryKind.AnswerSent}', status FROM marked ORDER BY id
      RETURNING id, root_id, task_id, task_type, status, at)
  SELECT ins.*, (SELECT max(e.id) FROM task_events AS e WHERE e.root_id = ins.root_id) AS prev_id FROM ins`;

/** The parameters of MARK_RESPONSES_SENT_SQL. */
export function finishedRuns(runs: readonly FinishedRun[]): [string[], (Date | null)[]] {
  return [runs.map((run) => run.id), runs.map((run) => run.completed_at)];
}

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

/** What a transition opens: the workflows to lock, the rows to read besides their steps', the task_ids of new workflows. */
export interface OpenSpec {
  /** Roots to lock, waiting for another transaction that holds one. */
  waitFor: readonly string[];
  /** Roots to lock unless another transaction holds them. */
  skipIfHeld: readonly string[];
  /** Rows whose roots to lock, waiting (answered rows: their workflow is known by them alone). */
  rootsOfRows: readonly string[];
  /** Rows to read besides the current plan's steps (answered or due rows). */
  rowIds: readonly string[];
  /** The task_ids of workflows to create: locked, and looked up. */
  newTaskIds: readonly string[];
  /** The ids their roots will have: locked too. */
  newRootIds: readonly string[];
}

export interface Opened {
  /** The roots locked: those named, and those of the rows named. */
  roots: RootRow[];
  /** The task_ids of new workflows that a root has already. */
  taken: Set<string>;
  /** The task_ids of new workflows that were asked to be cancelled before they existed. */
  cancelRequested: Set<string>;
  /** The rows of the locked workflows' current plan steps (not their items), and the rows named. */
  rows: TaskRow[];
  /** The transaction's id, to learn whether it committed when its `COMMIT` goes unanswered. */
  xid: string;
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

/** An attempt of a sub-task: its row and its number. */
export interface AttemptRef {
  id: string;
  attempt: number;
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
  /** New rows, new roots included. */
  insert: readonly NewTask[];
  revisions: readonly { rootId: string; plan: Plan; history: readonly ReplacedPlan[]; kept: readonly string[]; retiredRevision: number }[];
  stops: readonly StopScope[];
  /** History rows, in the order they happened. */
  events?: readonly NewEvent[];
  progress?: readonly { id: string; progress: StepProgress }[];
  /** Roots that run again (a retry). */
  reopened?: readonly string[];
  /** Attempts this transaction dispatches: they count as unsent until marked sent. */
  dispatched?: readonly AttemptRef[];
  /** Task_ids whose cancel, asked before they existed, their new workflow has taken. */
  cancelsTaken?: readonly string[];
  /** Rows of plan steps retired (with their items) before new rows take their keys: a retry from a step. */
  retired?: readonly { rootId: string; steps: readonly string[]; mark: string }[];
  /** Signals received, and kept signals taken by steps (`id` → the step's row). */
  signals?: { insert: readonly NewSignal[]; take: readonly { id: string; taken_by: string }[] };
  now: Date;
}

export interface Closed {
  stopped: StoppedRow[];
  /** One per event given, in the same order. */
  events: InsertedEvent[];
}

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
  private xid_ = '';
  private commitSent_ = false;

  constructor(private readonly client: SqlClient) {}

  /** True between `open` and `close` (or a failure). */
  get isOpen(): boolean {
    return this.open_;
  }

  /** The transaction's id once opened ('' before). */
  get xid(): string {
    return this.xid_;
  }

  /** True once `close` has sent its `COMMIT`: if no answer comes, the transaction may or may not have committed. */
  get commitSent(): boolean {
    return this.commitSent_;
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
    const statements = ['BEGIN', 'SET LOCAL plan_cache_mode = force_generic_plan', 'SELECT pg_current_xact_id()::text AS xid'];
    const locks: number[] = [];
    if (spec.waitFor.length + spec.rootsOfRows.length > 0) locks.push(statements.push(execute('lock_roots', [spec.waitFor, spec.rootsOfRows])) - 1);
    if (spec.skipIfHeld.length > 0) locks.push(statements.push(execute('lock_free_roots', [spec.skipIfHeld, []])) - 1);
    const newIds = spec.newTaskIds;
    if (newIds.length > 0) statements.push(execute('lock_task_ids', [newIds]));
    // Whoever learns a new root's id before it commits (a step it put in a line, popped by another transaction) waits for the commit.
    if (spec.newRootIds.length > 0) statements.push(execute('lock_new_roots', [spec.newRootIds]));
    // Read once locked, in statements of their own: they see all that the lock's last holder committed.
    const taskIdsAt = newIds.length > 0 ? statements.push(execute('read_task_ids', [newIds])) - 1 : -1;
    const roots = [...spec.waitFor, ...spec.skipIfHeld];
    const rootsAt = locks.length > 0 ? statements.push(execute('read_roots', [roots, spec.rootsOfRows])) - 1 : -1;
    const readAt = locks.length > 0 ? statements.push(execute('read_rows', [roots, spec.rootsOfRows, spec.rowIds])) - 1 : -1;
    this.open_ = true;
    const results = await this.script(statements);
    this.xid_ = String(results[2]?.rows[0]?.['xid'] ?? '');
    const lockedIds = new Set(locks.flatMap((at) => (results[at]?.rows ?? []).map((row) => String(row['id']))));
    const locked = ((rootsAt < 0 ? [] : (results[rootsAt]?.rows ?? [])) as RootRow[]).filter((root) => lockedIds.has(root.id));
    const named = new Set(spec.rowIds);
    const rows = ((readAt < 0 ? [] : (results[readAt]?.rows ?? [])) as TaskRow[]).filter(
      (row) => lockedIds.has(row.root_id) && (named.has(row.id) || (row.parent_id === row.root_id && isCurrentKey(row.step_key))),
    );
    const found = (taskIdsAt < 0 ? [] : (results[taskIdsAt]?.rows ?? [])) as { task_id: string; taken: boolean; cancel_requested: boolean }[];
    return {
      roots: locked,
      taken: new Set(found.filter((one) => one.taken).map((one) => one.task_id)),
      cancelRequested: new Set(found.filter((one) => one.cancel_requested).map((one) => one.task_id)),
      rows,
      xid: this.xid_,
    };
  }

  /**
   * Writes what the transition changed and commits: rows changed, revised plans (their dropped
   * rows retired), rows added, and the unfinished rows in each stop scope cancelled (every due time
   * there cleared). Returns the stopped rows that were running, whose agents must be told and
   * whose slots freed.
   */
  async close(changes: Changes): Promise<Closed> {
    const statements: string[] = [];
    const { events = [], progress = [], reopened = [], dispatched = [], cancelsTaken = [] } = changes;
    if (reopened.length > 0) statements.push(execute('reopen_roots', [reopened]));
    if (changes.update.length > 0) {
      statements.push(execute('update_rows', [changes.update.map((row) => row.id), ...columnsOf(changes.update, UPDATE_COLUMNS)]));
    }
    for (const revision of changes.revisions) {
      statements.push(
        retireRows(revision.rootId, retiredKey('', revision.retiredRevision), `<> ALL(${arrayOf(revision.kept, 'text')})`),
        `UPDATE tasks SET plan = ${literal(revision.plan, 'jsonb')}, plan_history = ${literal(revision.history, 'jsonb')},
                plan_revision = ${literal(revision.plan.revision ?? 1, 'int')}, updated_at = now()
          WHERE id = ${literal(revision.rootId, 'uuid')}`,
      );
    }
    // Before the rows that replace them are inserted under the same keys.
    for (const retired of changes.retired ?? []) statements.push(retireRows(retired.rootId, retired.mark, `= ANY(${arrayOf(retired.steps, 'text')})`));
    if (changes.insert.length > 0) statements.push(execute('insert_rows', columnsOf(changes.insert, INSERT_COLUMNS)));
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
    if (dispatched.length > 0) statements.push(execute('insert_unsent', [dispatched.map((one) => one.id), dispatched.map((one) => one.attempt)]));
    if (cancelsTaken.length > 0) statements.push(execute('delete_early_cancels', [cancelsTaken]));
    statements.push('COMMIT');
    this.commitSent_ = true;
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

  /** Marks the final responses of these runs sent, with an `answer_sent` event each; returns the events. */
  async markResponsesSent(runs: readonly FinishedRun[]): Promise<SentEventRow[]> {
    if (runs.length === 0) return [];
    return this.rows('mark_responses_sent', MARK_RESPONSES_SENT_SQL, finishedRuns(runs));
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
