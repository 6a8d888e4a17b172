import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Concurrency keys: a root's key (`concurrency_key`), the runs of a key that are RUNNING (counted
 * under the key's lock) and QUEUED (oldest first), and the QUEUED roots due for a look (marked when
 * a run of their key ended, or past their deadline): each read finds only the rows it counts.
 * Usage and budgets: what each row's agents reported it cost (`usage`, a root's sums its
 * workflow's), and a root's budget. The steps waiting for a slot on an agent, counted per agent
 * for GET /agents from the index alone.
 */
export class RunPolicies1764000000020 implements MigrationInterface {
  name = 'RunPolicies1764000000020';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "concurrency_key" text`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "usage" jsonb`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "budget" jsonb`);
    await queryRunner.query(
      `CREATE INDEX "tasks_concurrency_running_idx" ON "tasks" ("concurrency_key") WHERE parent_id IS NULL AND status = 'RUNNING' AND concurrency_key IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX "tasks_concurrency_queued_idx" ON "tasks" ("concurrency_key", "created_at") WHERE parent_id IS NULL AND status = 'QUEUED'`);
    await queryRunner.query(
      `CREATE INDEX "tasks_queued_due_idx" ON "tasks" ("next_attempt_at") WHERE parent_id IS NULL AND status = 'QUEUED' AND next_attempt_at IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "tasks_queued_deadline_idx" ON "tasks" ("deadline_at") WHERE parent_id IS NULL AND status = 'QUEUED' AND deadline_at IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX "tasks_waiting_on_idx" ON "tasks" ("waiting_on") WHERE status = 'PENDING' AND waiting_on IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "tasks_waiting_on_idx"`);
    await queryRunner.query(`DROP INDEX "tasks_queued_deadline_idx"`);
    await queryRunner.query(`DROP INDEX "tasks_queued_due_idx"`);
    await queryRunner.query(`DROP INDEX "tasks_concurrency_queued_idx"`);
    await queryRunner.query(`DROP INDEX "tasks_concurrency_running_idx"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "budget"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "usage"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "concurrency_key"`);
  }
}
