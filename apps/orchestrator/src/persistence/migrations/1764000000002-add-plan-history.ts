import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Revised plans: the plans a workflow ran before, and the roots waiting for a revision (due by `next_attempt_at`). */
export class AddPlanHistory1764000000002 implements MigrationInterface {
  name = 'AddPlanHistory1764000000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "plan_history" jsonb`);
    await queryRunner.query(
      `CREATE INDEX "tasks_revision_due_idx" ON "tasks" ("next_attempt_at") WHERE parent_id IS NULL AND status = 'RUNNING' AND next_attempt_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "tasks_revision_due_idx"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "plan_history"`);
  }
}
