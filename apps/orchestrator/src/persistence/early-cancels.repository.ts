import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ORCHESTRATOR_AGENT_NAME } from '@orchestrator/contracts';
import { DataSource } from 'typeorm';
import { TASK_ID_LOCK } from './transition-statements.js';

export type EarlyCancel = 'remembered' | 'exists' | 'unknown';

/** Cancels that came for child workflows before their roots existed (`early_cancels`). */
@Injectable()
export class EarlyCancelsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Remembers a cancel for the child workflow `taskId`, the sub-task id of a `workflow:` step's
   * attempt (row `rowId`), when no root has that task_id yet. Under the task_id's lock, which the
   * transaction creating the root holds too: either this finds the root it committed, or it finds
   * this. `exists`: the root is there (cancel it); `unknown`: no such step.
   */
  async remember(taskId: string, rowId: string): Promise<EarlyCancel> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await runner.query(`SELECT pg_advisory_xact_lock(${TASK_ID_LOCK('$1::text')})`, [taskId]);
      // A statement of its own, after the lock: it sees the root a transaction that held the lock committed.
      const [found] = (await runner.query(
        `WITH root AS (SELECT 1 FROM tasks WHERE parent_id IS NULL AND task_id = $1),
              step AS (SELECT 1 FROM tasks WHERE id = $2 AND parent_id IS NOT NULL AND agent_name = $3),
              ins AS (INSERT INTO early_cancels (task_id) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM root) AND EXISTS (SELECT 1 FROM step)
                      ON CONFLICT DO NOTHING RETURNING 1)
         SELECT EXISTS (SELECT 1 FROM root) AS root, EXISTS (SELECT 1 FROM step) AS step`,
        [taskId, rowId, ORCHESTRATOR_AGENT_NAME],
      )) as { root: boolean; step: boolean }[];
      await runner.commitTransaction();
      if (found?.root) return 'exists';
      return found?.step ? 'remembered' : 'unknown';
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }
}
