import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { TaskStatus } from '@orchestrator/contracts';
import pLimit, { type LimitFunction } from 'p-limit';
import { DataSource, type EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import type { Plan, ReplacedPlan } from '../planning/plan.js';
import type { TaskEntity } from './task.entity.js';

export type NewTask = Omit<TaskEntity, 'created_at' | 'updated_at' | 'response_sent_at'>;

export interface RootListFilter {
  status?: TaskStatus;
  task_type?: string;
  limit: number;
  offset: number;
}

/** A workflow with due work, and the agents its due steps are for (null: not known before routing). */
export interface DueRoot {
  rootId: string;
  agents: (string | null)[];
}

export interface StepCounts {
  total: number;
  done: number;
}

const INSERT_COLUMNS = [
  'id', 'task_id', 'parent_id', 'root_id', 'task_type', 'step_key', 'agent_name', 'status', 'priority',
  'attempts', 'max_attempts', 'next_attempt_at', 'deadline_at', 'payload', 'result', 'error',
  'requester_id', 'reply_to', 'plan', 'trace_parent', 'started_at', 'completed_at',
] as const satisfies readonly (keyof NewTask)[];

/** What a transition may change in a row, with the column's type. */
const MUTABLE_COLUMNS = [
  ['agent_name', 'text'],
  ['status', 'text'],
  ['attempts', 'int'],
  ['next_attempt_at', 'timestamptz'],
  ['deadline_at', 'timestamptz'],
  ['payload', 'jsonb'],
  ['result', 'jsonb'],
  ['error', 'text'],
  ['started_at', 'timestamptz'],
  ['completed_at', 'timestamptz'],
] as const satisfies readonly (readonly [keyof TaskEntity, string])[];

/** Sorts CRITICAL first. */
const PRIORITY_RANK_SQL = `CASE priority WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'NORMAL' THEN 2 ELSE 3 END`;

const JSONB_COLUMNS = new Set<string>(['payload', 'result', 'plan']);

/** jsonb values go as JSON text: the driver would turn a JS array into a PostgreSQL array. */
function toParam(column: string, value: unknown): unknown {
  return JSONB_COLUMNS.has(column) && value !== null && value !== undefined ? JSON.stringify(value) : value;
}

function insertSql(rows: readonly NewTask[]): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const tuples = rows.map((row) => {
    const placeholders = INSERT_COLUMNS.map((column) => {
      params.push(toParam(column, row[column]));
      return `$${params.length}`;
    });
    return `(${placeholders.join(', ')})`;
  });
  return { sql: `INSERT INTO tasks (${INSERT_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, params };
}

/** The queries of one transaction. Obtained from `TasksRepository.transaction`. */
export class TasksTransaction {
  constructor(private readonly em: EntityManager) {}

  /** Inserts a root task unless one with the same `task_id` exists; true when inserted. */
  async insertRootIfAbsent(root: NewTask): Promise<boolean> {
    const { sql, params } = insertSql([root]);
    const rows: unknown[] = await this.em.query(
      `${sql} ON CONFLICT (task_id) WHERE parent_id IS NULL DO NOTHING RETURNING id`,
      params,
    );
    return rows.length > 0;
  }

  async insertSteps(steps: NewTask[]): Promise<void> {
    if (steps.length === 0) return;
    const { sql, params } = insertSql(steps);
    await this.em.query(sql, params);
  }

  async findSteps(rootId: string): Promise<TaskEntity[]> {
    return this.em.query(`SELECT * FROM tasks WHERE root_id = $1 AND parent_id IS NOT NULL ORDER BY created_at, step_key`, [
      rootId,
    ]);
  }

  /**
   * Locks several workflows and reads them whole in one round trip. Rows are locked in the order
   * of their workflow's id (a root's id), root first, the same order every transition uses, so
   * transactions that lock several never deadlock on each other.
   */
  async lockWorkflows(rootIds: readonly string[]): Promise<Map<string, { root: TaskEntity; steps: TaskEntity[] }>> {
    const workflows = new Map<string, { root: TaskEntity; steps: TaskEntity[] }>();
    if (rootIds.length === 0) return workflows;
    const rows: TaskEntity[] = await this.em.query(
      `SELECT * FROM tasks WHERE root_id = ANY($1::uuid[]) ORDER BY root_id, (parent_id IS NOT NULL), created_at, step_key, id FOR UPDATE`,
      [rootIds],
    );
    for (const row of rows) {
      if (row.parent_id === null) workflows.set(row.id, { root: row, steps: [] });
      else workflows.get(row.root_id)?.steps.push(row);
    }
    return workflows;
  }

  /**
   * Locks a workflow, its root row first, and reads it whole in one round trip. With `skipLocked`,
   * null when another transaction holds it.
   */
  async lockWorkflow(rootId: string, skipLocked = false): Promise<{ root: TaskEntity; steps: TaskEntity[] } | null> {
    const rows: TaskEntity[] = await this.em.query(
      `SELECT * FROM tasks WHERE root_id = $1 ORDER BY (parent_id IS NOT NULL), created_at, step_key, id FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''}`,
      [rootId],
    );
    const [root, ...steps] = rows;
    if (!root || root.parent_id !== null) return null;
    return { root, steps };
  }

  /** Writes the mutable columns of `rows` back in one statement. */
  async writeBack(rows: readonly TaskEntity[]): Promise<void> {
    if (rows.length === 0) return;
    const params: unknown[] = [];
    const tuples = rows.map((row) => {
      params.push(row.id);
      const placeholders = [`$${params.length}::uuid`];
      for (const [column, type] of MUTABLE_COLUMNS) {
        params.push(toParam(column, row[column]));
        placeholders.push(`$${params.length}::${type}`);
      }
      return `(${placeholders.join(', ')})`;
    });
    const columns = MUTABLE_COLUMNS.map(([column]) => column);
    await this.em.query(
      `UPDATE tasks AS t SET ${columns.map((c) => `"${c}" = v."${c}"`).join(', ')}, updated_at = now()
         FROM (VALUES ${tuples.join(', ')}) AS v(id, ${columns.map((c) => `"${c}"`).join(', ')})
        WHERE t.id = v.id`,
      params,
    );
  }

  /** Stores a workflow's revised plan and the history of the plans it replaced. */
  async replacePlan(rootId: string, plan: Plan, history: ReplacedPlan[]): Promise<void> {
    await this.em.query(`UPDATE tasks SET plan = $2::jsonb, plan_history = $3::jsonb, updated_at = now() WHERE id = $1`, [
      rootId,
      JSON.stringify(plan),
      JSON.stringify(history),
    ]);
  }

  /** Gives rows new step keys (steps a revised plan dropped, so that their ids are free again). */
  async renameSteps(renames: readonly { id: string; step_key: string }[]): Promise<void> {
    if (renames.length === 0) return;
    await this.em.query(
      `UPDATE tasks AS t SET step_key = v.step_key, updated_at = now()
         FROM unnest($1::uuid[], $2::text[]) AS v(id, step_key) WHERE t.id = v.id`,
      [renames.map((r) => r.id), renames.map((r) => r.step_key)],
    );
  }

  /** Roots whose final response has not been sent, locked, skipping ones another replica holds. */
  async lockUnsentResponses(completedBefore: Date, limit: number): Promise<TaskEntity[]> {
    return this.em.query(
      `SELECT * FROM tasks
        WHERE parent_id IS NULL AND completed_at IS NOT NULL AND response_sent_at IS NULL AND completed_at <= $1
        ORDER BY completed_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED`,
      [completedBefore, limit],
    );
  }

  async markResponsesSent(rootIds: string[]): Promise<void> {
    if (rootIds.length > 0) {
      // Locks in id order, as transitions do (lockWorkflows), so the two never deadlock.
      await this.em.query(
        `UPDATE tasks SET response_sent_at = now()
          WHERE id IN (SELECT id FROM tasks WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE)`,
        [rootIds],
      );
    }
  }
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

  transaction<T>(work: (tx: TasksTransaction) => Promise<T>): Promise<T> {
    return this.turn(() => this.dataSource.transaction((em) => work(new TasksTransaction(em))));
  }

  /** Transactions waiting for their turn. */
  get queuedTransactions(): number {
    return this.turn.pendingCount;
  }

  async findRootByTaskId(taskId: string): Promise<TaskEntity | null> {
    const rows: TaskEntity[] = await this.dataSource.query(
      `SELECT * FROM tasks WHERE task_id = $1 AND parent_id IS NULL`,
      [taskId],
    );
    return rows[0] ?? null;
  }

  async findSteps(rootId: string): Promise<TaskEntity[]> {
    return new TasksTransaction(this.dataSource.manager).findSteps(rootId);
  }

  async findRootIdsOfSteps(stepIds: readonly string[]): Promise<Map<string, string>> {
    const rows: { id: string; root_id: string }[] = await this.dataSource.query(
      `SELECT id, root_id FROM tasks WHERE id = ANY($1::uuid[]) AND parent_id IS NOT NULL`,
      [stepIds],
    );
    return new Map(rows.map((row) => [row.id, row.root_id]));
  }

  /**
   * Roots with a step past its deadline, or due for dispatch, or waiting for a revised plan. Passed
   * deadlines come first (they free slots on agents); then CRITICAL before HIGH before NORMAL
   * before LOW, oldest first.
   */
  async findDueRootIds(now: Date, limit: number): Promise<DueRoot[]> {
    const rows: { root_id: string; agents: (string | null)[] }[] = await this.dataSource.query(
      `SELECT root_id, array_agg(agent_name) AS agents FROM (
         (SELECT root_id, agent_name, ${PRIORITY_RANK_SQL} AS rank, created_at FROM tasks
           WHERE status = 'PENDING' AND next_attempt_at IS NOT NULL AND next_attempt_at <= $1
           ORDER BY rank, created_at LIMIT $2)
         UNION ALL
         (SELECT root_id, NULL AS agent_name, -1 AS rank, created_at FROM tasks
           WHERE status = 'RUNNING' AND deadline_at IS NOT NULL AND deadline_at <= $1
           ORDER BY deadline_at LIMIT $2)
         UNION ALL
         (SELECT id AS root_id, NULL AS agent_name, -1 AS rank, created_at FROM tasks
           WHERE parent_id IS NULL AND status = 'RUNNING' AND next_attempt_at IS NOT NULL AND next_attempt_at <= $1
           ORDER BY next_attempt_at LIMIT $2)
       ) due
       GROUP BY root_id
       ORDER BY min(rank), min(created_at)
       LIMIT $2`,
      [now, limit],
    );
    return rows.map((row) => ({ rootId: row.root_id, agents: row.agents }));
  }

  async listRoots(filter: RootListFilter): Promise<{ items: TaskEntity[]; total: number }> {
    const conditions = ['parent_id IS NULL'];
    const params: unknown[] = [];
    if (filter.status) {
      params.push(filter.status);
      conditions.push(`status = $${params.length}`);
    }
    if (filter.task_type) {
      params.push(filter.task_type);
      conditions.push(`task_type = $${params.length}`);
    }
    const where = conditions.join(' AND ');
    const [{ count }] = await this.dataSource.query<[{ count: number }]>(`SELECT count(*)::int AS count FROM tasks WHERE ${where}`, params);
    const items: TaskEntity[] = await this.dataSource.query(
      `SELECT * FROM tasks WHERE ${where} ORDER BY created_at DESC, id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, filter.limit, filter.offset],
    );
    return { items, total: count };
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

  async markResponsesSent(rootIds: string[]): Promise<void> {
    await new TasksTransaction(this.dataSource.manager).markResponsesSent(rootIds);
  }

  async countRunningWorkflows(): Promise<number> {
    const [row] = await this.dataSource.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM tasks WHERE parent_id IS NULL AND status = 'RUNNING'`);
    return row.n;
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}
