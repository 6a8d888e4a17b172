import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { TaskStatus } from '@orchestrator/contracts';
import pLimit, { type LimitFunction } from 'p-limit';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { AppConfig } from '../config/app-config.js';
import { subtaskWireId } from './step-keys.js';
import type { TaskEntity } from './task.entity.js';
import { MARK_RESPONSES_SENT_SQL, WorkflowTransaction, type SentEventRow, type SqlClient } from './workflow-transaction.js';

export interface RootListFilter {
  status?: TaskStatus;
  task_type?: string;
  limit: number;
  /** Only roots listed after this one, newest first. */
  after?: ListPosition;
  /** Count every root the filter matches (a scan of them: only when asked). */
  count?: boolean;
}

/** A root's place in the listing: its creation time in microseconds since the epoch (exact, unlike a Date), and its id. */
export interface ListPosition {
  micros: string;
  id: string;
}

/** What a listing shows of a root. */
export type ListedRoot = Pick<
  TaskEntity,
  'id' | 'task_id' | 'task_type' | 'status' | 'priority' | 'requester_id' | 'created_at' | 'started_at' | 'completed_at' | 'error' | 'not_before'
> & { position: ListPosition };

/** A workflow with due work: the rows that are due (none for a due root: its deadline or a revision). */
export interface DueWorkflow {
  rootId: string;
  rowIds: string[];
}

export interface StepCounts {
  total: number;
  done: number;
}

type PooledClient = SqlClient & {
  on(event: 'error', listener: (error: unknown) => void): void;
  off(event: 'error', listener: (error: unknown) => void): void;
};

/** Sorts CRITICAL first; the same expression as the index `tasks_due_dispatch_idx`. */
const PRIORITY_RANK_SQL = `CASE priority WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'NORMAL' THEN 2 ELSE 3 END`;

/** A step waiting in a line: the line, its sub-task id there (its next attempt's), its rank, its fairness key. */
export interface WaitingRow {
  id: string;
  updatedAt: Date;
  queue: string;
  member: string;
  rootId: string;
  rank: number;
  fairnessKey: string;
}

/** Every query of the `tasks` table. Services decide; this class only reads and writes. */
@Injectable()
export class TasksRepository {
  /**
   * Transactions wait their turn here rather than for a pooled connection: a burst of thousands
   * of messages would otherwise time out on the pool. Two connections stay free for single reads.
   */
  private readonly turn: LimitFunction;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    config: AppConfig,
  ) {
    this.turn = pLimit(Math.max(1, config.DB_POOL_SIZE - 2));
  }

  /**
   * Runs a transition on a connection of its own: `work` opens the transaction (`tx.open`, which
   * begins it) and closes it (`tx.close`, which commits); if it fails in between, it is rolled
   * back. Straight on the driver's connection: these statements are the hot path.
   */
  transition<T>(work: (tx: WorkflowTransaction) => Promise<T>): Promise<T> {
    return this.onConnection(async (client, rollback) => {
      const tx = new WorkflowTransaction(client);
      try {
        return await work(tx);
      } catch (error) {
        if (tx.isOpen) await rollback();
        throw error;
      }
    });
  }

  /** Runs `work` in one plain transaction (BEGIN, its queries, COMMIT). */
  transaction<T>(work: (tx: WorkflowTransaction) => Promise<T>): Promise<T> {
    return this.onConnection(async (client, rollback) => {
      await client.query({ text: 'BEGIN' });
      try {
        const out = await work(new WorkflowTransaction(client));
        await client.query({ text: 'COMMIT' });
        return out;
      } catch (error) {
        await rollback();
        throw error;
      }
    });
  }

  private onConnection<T>(work: (client: SqlClient, rollback: () => Promise<void>) => Promise<T>): Promise<T> {
    return this.turn(async () => {
      const driver = this.dataSource.driver as PostgresDriver;
      const [client, release] = (await driver.obtainMasterConnection()) as [PooledClient, (error?: unknown) => void];
      let broken: unknown;
      // A connection the server drops while it is checked out reports it here, not to the pool: the query fails instead.
      const onError = (error: unknown): void => void (broken = error);
      client.on('error', onError);
      // A connection that cannot even roll back is closed rather than reused.
      const rollback = (): Promise<void> => client.query({ text: 'ROLLBACK' }).then(() => undefined, (error: unknown) => void (broken ??= error));
      try {
        return await work(client, rollback);
      } finally {
        client.off('error', onError);
        release(broken);
      }
    });
  }

  /** Transactions waiting for their turn. */
  get queuedTransactions(): number {
    return this.turn.pendingCount;
  }

  async findRootByTaskId(taskId: string): Promise<TaskEntity | null> {
    const rows: TaskEntity[] = await this.dataSource.query(`SELECT * FROM tasks WHERE task_id = $1 AND parent_id IS NULL`, [taskId]);
    return rows[0] ?? null;
  }

  async findRootById(id: string): Promise<TaskEntity | null> {
    const rows: TaskEntity[] = await this.dataSource.query(`SELECT * FROM tasks WHERE id = $1 AND parent_id IS NULL`, [id]);
    return rows[0] ?? null;
  }

  /** Every row of a workflow but its root, items and rows of earlier plans included. */
  async findSteps(rootId: string): Promise<TaskEntity[]> {
    return this.dataSource.query(`SELECT * FROM tasks WHERE root_id = $1 AND parent_id IS NOT NULL ORDER BY created_at, step_key`, [rootId]);
  }

  /**
   * What time has made due: steps due for dispatch (a retry, or a wait for a free slot) in
   * priority order, oldest first, leaving out steps that wait only on agents in `full`; steps past
   * their deadline; waiting steps past their timeout or at the end of their sleep (each on an index
   * of waiting rows alone: rows that wait cost nothing until due); workflows past their deadline,
   * or waiting for a revised plan whose lease has passed; delayed workflows whose `not_before` has come.
   */
  async findDue(now: Date, limit: number): Promise<DueWorkflow[]> {
    const rows: { root_id: string; id: string | null }[] = await this.dataSource.query(
      `(SELECT root_id, id FROM tasks
         WHERE status = 'PENDING' AND next_attempt_at IS NOT NULL AND parent_id IS NOT NULL AND next_attempt_at <= $1
         ORDER BY ${PRIORITY_RANK_SQL}, created_at LIMIT $2)
       UNION ALL
       (SELECT root_id, id FROM tasks
         WHERE status = 'RUNNING' AND deadline_at IS NOT NULL AND deadline_at <= $1 AND parent_id IS NOT NULL
         ORDER BY deadline_at LIMIT $2)
       UNION ALL
       (SELECT root_id, id FROM tasks
         WHERE status = 'WAITING' AND deadline_at IS NOT NULL AND deadline_at <= $1
         ORDER BY deadline_at LIMIT $2)
       UNION ALL
       (SELECT root_id, id FROM tasks
         WHERE status = 'WAITING' AND next_attempt_at IS NOT NULL AND next_attempt_at <= $1
         ORDER BY next_attempt_at LIMIT $2)
       UNION ALL
       (SELECT id AS root_id, NULL AS id FROM tasks
         WHERE status = 'RUNNING' AND deadline_at IS NOT NULL AND deadline_at <= $1 AND parent_id IS NULL
         ORDER BY deadline_at LIMIT $2)
       UNION ALL
       (SELECT id AS root_id, NULL AS id FROM tasks
         WHERE parent_id IS NULL AND status = 'RUNNING' AND next_attempt_at IS NOT NULL AND next_attempt_at <= $1
         ORDER BY next_attempt_at LIMIT $2)
       UNION ALL
       (SELECT id AS root_id, NULL AS id FROM tasks
         WHERE parent_id IS NULL AND status = 'PENDING' AND not_before IS NOT NULL AND not_before <= $1
         ORDER BY not_before LIMIT $2)`,
      [now, limit],
    );
    const due = new Map<string, DueWorkflow>();
    for (const row of rows) {
      const workflow = due.get(row.root_id) ?? { rootId: row.root_id, rowIds: [] };
      if (row.id !== null) workflow.rowIds.push(row.id);
      due.set(row.root_id, workflow);
    }
    return [...due.values()].slice(0, limit);
  }

  /**
   * Steps waiting in a line for a slot since before `before`, oldest first, a page at a time after
   * a position: what to put back in the lines when Redis lost them.
   */
  async waitingSteps(before: Date, after: { updatedAt: Date; id: string } | null, limit: number): Promise<WaitingRow[]> {
    const rows: { id: string; root_id: string; attempts: number; waiting_on: string; queue_rank: number | null; fairness_key: string; updated_at: Date }[] = await this.dataSource.query(
      `SELECT t.id, t.root_id, t.attempts, t.waiting_on, t.queue_rank, t.updated_at, COALESCE(r.fairness_key, r.requester_id, '') AS fairness_key
         FROM tasks AS t JOIN tasks AS r ON r.id = t.root_id
        WHERE t.status = 'PENDING' AND t.waiting_on IS NOT NULL AND t.updated_at < $1
          AND ($2::timestamptz IS NULL OR (t.updated_at, t.id) > ($2::timestamptz, $3::uuid))
        ORDER BY t.updated_at, t.id LIMIT $4`,
      [before, after?.updatedAt ?? null, after?.id ?? null, limit],
    );
    return rows
      .filter((row) => /^[ac]:/.test(row.waiting_on))
      .map((row) => ({
        id: row.id,
        updatedAt: row.updated_at,
        queue: row.waiting_on,
        member: subtaskWireId(row.id, row.attempts + 1),
        rootId: row.root_id,
        rank: row.queue_rank ?? 0,
        fairnessKey: row.fairness_key,
      }));
  }

  /**
   * QUEUED roots due for a look: marked when a run of their key ended (past `now`), or past their
   * deadline; the keys in turn (the first of each key, then the second of each...), at most `limit`.
   */
  async findQueuedDue(now: Date, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM (
         SELECT id, concurrency_key, min(due) AS due FROM (
           (SELECT id, concurrency_key, next_attempt_at AS due FROM tasks
             WHERE parent_id IS NULL AND status = 'QUEUED' AND next_attempt_at IS NOT NULL AND next_attempt_at <= $1
             ORDER BY next_attempt_at LIMIT $2)
           UNION ALL
           (SELECT id, concurrency_key, deadline_at AS due FROM tasks
             WHERE parent_id IS NULL AND status = 'QUEUED' AND deadline_at IS NOT NULL AND deadline_at <= $1
             ORDER BY deadline_at LIMIT $2)) AS found
          GROUP BY id, concurrency_key) AS due
        ORDER BY row_number() OVER (PARTITION BY concurrency_key ORDER BY due), due LIMIT $2`,
      [now, limit],
    );
    return rows.map((row) => row.id);
  }

  /** Steps waiting in line for a slot, per line (`a:<agents>` or `c:<capability>`), from `tasks_waiting_on_idx` alone. */
  async countWaiting(): Promise<Map<string, number>> {
    const rows: { waiting_on: string; n: number }[] = await this.dataSource.query(
      `SELECT waiting_on, count(*)::int AS n FROM tasks WHERE status = 'PENDING' AND waiting_on IS NOT NULL GROUP BY waiting_on`,
    );
    return new Map(rows.map((row) => [row.waiting_on, row.n]));
  }

  /** Marks final responses sent, each with its `answer_sent` event; returns the events. */
  async markResponsesSent(rootIds: readonly string[]): Promise<SentEventRow[]> {
    if (rootIds.length === 0) return [];
    return this.dataSource.query(MARK_RESPONSES_SENT_SQL, [rootIds]);
  }

  /**
   * A page of roots, newest first, after a position (keyset): every filter has an index in this
   * order, so a page reads its own rows whatever the size of the table. One more row than asked
   * tells whether there is a next page.
   */
  async listRoots(filter: RootListFilter): Promise<{ items: ListedRoot[]; more: boolean; total: number | null }> {
    const conditions = ['parent_id IS NULL'];
    const params: unknown[] = [];
    if (filter.status) conditions.push(`status = $${params.push(filter.status)}`);
    if (filter.task_type) conditions.push(`task_type = $${params.push(filter.task_type)}`);
    const counted = filter.count
      ? this.dataSource.query<[{ count: number }]>(`SELECT count(*)::int AS count FROM tasks WHERE ${conditions.join(' AND ')}`, [...params])
      : Promise.resolve(null);
    if (filter.after) {
      const at = params.push(filter.after.micros);
      const id = params.push(filter.after.id);
      conditions.push(`(created_at, id) < (timestamptz 'epoch' + $${at}::bigint * interval '1 microsecond', $${id}::uuid)`);
    }
    params.push(filter.limit + 1);
    const rows: (Omit<ListedRoot, 'position'> & { micros: string })[] = await this.dataSource.query(
      `SELECT id, task_id, task_type, status, priority, requester_id, created_at, started_at, completed_at, error, not_before,
              (extract(epoch FROM created_at) * 1000000)::bigint::text AS micros
         FROM tasks WHERE ${conditions.join(' AND ')}
        ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const total = await counted;
    const items = rows.slice(0, filter.limit).map(({ micros, ...root }) => ({ ...root, position: { micros, id: root.id } }));
    return { items, more: rows.length > filter.limit, total: total === null ? null : total[0].count };
  }

  /**
   * Deletes up to `limit` workflows that finished before `cutoff`, oldest first, with all their
   * rows and their history; workflows another replica is deleting are skipped. Returns how many
   * workflows, rows and events.
   */
  async deleteFinished(cutoff: Date, limit: number): Promise<{ workflows: number; rows: number; events: number }> {
    const [counts] = await this.dataSource.query<[{ workflows: number; rows: number; events: number }]>(
      `WITH doomed AS (
         SELECT id FROM tasks WHERE parent_id IS NULL AND completed_at < $1
          ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ), gone AS (
         DELETE FROM tasks AS t USING doomed WHERE t.root_id = doomed.id RETURNING t.parent_id
       ), history AS (
         DELETE FROM task_events AS e USING doomed WHERE e.root_id = doomed.id RETURNING 1
       ), signals AS (
         DELETE FROM workflow_signals AS s USING doomed WHERE s.root_id = doomed.id RETURNING 1
       )
       SELECT count(*) FILTER (WHERE parent_id IS NULL)::int AS workflows, count(*)::int AS rows,
              (SELECT count(*)::int FROM history) AS events
         FROM gone`,
      [cutoff, limit],
    );
    return counts;
  }

  async stepCounts(rootIds: string[]): Promise<Map<string, StepCounts>> {
    const counts = new Map<string, StepCounts>();
    if (rootIds.length === 0) return counts;
    const rows: { root_id: string; total: number; done: number }[] = await this.dataSource.query(
      `SELECT root_id, count(*)::int AS total,
              count(*) FILTER (WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED'))::int AS done
         FROM tasks WHERE root_id = ANY($1::uuid[]) AND parent_id IS NOT NULL GROUP BY root_id`,
      [rootIds],
    );
    for (const row of rows) counts.set(row.root_id, { total: row.total, done: row.done });
    return counts;
  }

  async countRunningWorkflows(): Promise<number> {
    const [row] = await this.dataSource.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM tasks WHERE parent_id IS NULL AND status = 'RUNNING'`);
    return row.n;
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}
