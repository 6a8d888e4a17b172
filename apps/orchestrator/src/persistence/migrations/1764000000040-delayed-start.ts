import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delayed start: a request's `not_before` keeps its workflow PENDING until then. The sweeper finds
 * the due ones on an index of those alone, so that any number of them waiting costs a pass nothing.
 */
export class DelayedStart1764000000040 implements MigrationInterface {
  name = 'DelayedStart1764000000040';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tasks" ADD "not_before" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `CREATE INDEX "tasks_delayed_due_idx" ON "tasks" ("not_before") WHERE parent_id IS NULL AND status = 'PENDING' AND not_before IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "tasks_delayed_due_idx"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "not_before"`);
  }
}
