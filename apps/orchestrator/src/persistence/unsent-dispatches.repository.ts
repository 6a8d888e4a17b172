import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Budget, TaskPriority, TaskStatus, Usage } from '@orchestrator/contracts';
import { DataSource } from 'typeorm';
import { arrayOf } from './sql-text.js';
import type { AttemptRef } from './workflow-transaction.js';

/** An attempt committed and not marked sent, with what its message is rebuilt from: its row (null fields when the row is gone) and its root. */
export interface UnsentAttempt {
  row_id: string;
  attempt: number;
  status: TaskStatus | null;
  attempts: number | null;
  agent_name: string | null;
  task_type: string;
  priority: TaskPriority;
  payload: Record<string, unknown>;
  step_key: string;
  updated_at: Date;
  root_task_id: string;
  depth: number;
  trace_parent: string | null;
  fairness_key: string | null;
  requester_id: string | null;
  budget: Budget | null;
  usage: Usage | null;
}

const DUE = `since <= clock_timestamp() - $1::int * interval '1 millisecond'`;

/**
 * The attempts committed but not yet known to be published (`unsent_dispatches`): a transition's
 * commit inserts them, the publisher's confirmation deletes them, and any replica publishes again
 * those left too long.
 */
@Injectable()
export class UnsentDispatchesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Marks attempts published, in one round trip. Its commit waits for no disk flush: a mark lost in
   * a crash costs a message sent twice (same id), never one lost.
   */
  async markSent(attempts: readonly AttemptRef[]): Promise<void> {
    if (attempts.length === 0) return;
    await this.dataSource.query(
      `BEGIN; SET LOCAL synchronous_commit = off;
       DELETE FROM unsent_dispatches AS u
        USING unnest(${arrayOf(attempts.map((a) => a.id), 'uuid')}, ${arrayOf(attempts.map((a) => a.attempt), 'int')}) AS v(row_id, attempt)
        WHERE u.row_id = v.row_id AND u.attempt = v.attempt;
       COMMIT`,
    );
  }

  /**
   * Publishes again up to `limit` attempts unsent for more than `afterMs`, oldest first: each locked
   * (another replica's pass skips it), `publish` given them all (it sends those whose row still runs
   * that attempt), then all deleted, in one transaction. A pass that finds none reads one index
   * entry at most.
   */
  async resend(afterMs: number, limit: number, publish: (attempts: UnsentAttempt[]) => Promise<void>): Promise<number> {
    const [due] = await this.dataSource.query<{ one: number }[]>(`SELECT 1 AS one FROM unsent_dispatches WHERE ${DUE} LIMIT 1`, [afterMs]);
    if (!due) return 0;
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const attempts = (await runner.query(
        `SELECT u.row_id, u.attempt, t.status, t.attempts, t.agent_name, t.task_type, t.priority, t.payload, COALESCE(t.step_key, '') AS step_key,
                t.updated_at, r.task_id AS root_task_id, r.depth, r.trace_parent,
                r.fairness_key, r.requester_id, r.budget, r.usage
           FROM (SELECT row_id, attempt, since FROM unsent_dispatches WHERE ${DUE} ORDER BY since LIMIT $2 FOR UPDATE SKIP LOCKED) AS u
           LEFT JOIN tasks AS t ON t.id = u.row_id
           LEFT JOIN tasks AS r ON r.id = t.root_id AND r.parent_id IS NULL
          ORDER BY u.since`,
        [afterMs, limit],
      )) as UnsentAttempt[];
      await publish(attempts);
      await runner.query(
        `DELETE FROM unsent_dispatches AS u USING unnest($1::uuid[], $2::int[]) AS v(row_id, attempt) WHERE u.row_id = v.row_id AND u.attempt = v.attempt`,
        [attempts.map((a) => a.row_id), attempts.map((a) => a.attempt)],
      );
      await runner.commitTransaction();
      return attempts.length;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }
}
