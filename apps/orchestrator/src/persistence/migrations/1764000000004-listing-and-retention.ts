import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Listing by keyset and retention. GET /tasks pages newest first by `(created_at, id)`, with or
 * without a status or a task_type: each of the four shapes has an index in that order, so a page
 * costs its own rows whatever the table's size. Finished workflows are found oldest first by
 * `completed_at` for the retention pass.
 */
export class ListingAndRetention1764000000004 implements MigrationInterface {
  name = 'ListingAndRetention1764000000004';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS "tasks_roots_created_idx"`);
    await queryRunner.query(`DROP INDEX IF EXISTS "tasks_roots_listing_idx"`);
    await queryRunner.query(`CREATE INDEX "tasks_roots_created_idx" ON "tasks" ("created_at", "id") WHERE parent_id IS NULL`);
    await queryRunner.query(`CREATE INDEX "tasks_roots_status_idx" ON "tasks" ("status", "created_at", "id") WHERE parent_id IS NULL`);
    await queryRunner.query(`CREATE INDEX "tasks_roots_type_idx" ON "tasks" ("task_type", "created_at", "id") WHERE parent_id IS NULL`);
    await queryRunner.query(`CREATE INDEX "tasks_roots_listing_idx" ON "tasks" ("status", "task_type", "created_at", "id") WHERE parent_id IS NULL`);
    await queryRunner.query(`CREATE INDEX "tasks_roots_finished_idx" ON "tasks" ("completed_at") WHERE parent_id IS NULL AND completed_at IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "tasks_roots_finished_idx"`);
    await queryRunner.query(`DROP INDEX "tasks_roots_listing_idx"`);
    await queryRunner.query(`DROP INDEX "tasks_roots_type_idx"`);
    await queryRunner.query(`DROP INDEX "tasks_roots_status_idx"`);
    await queryRunner.query(`DROP INDEX "tasks_roots_created_idx"`);
    await queryRunner.query(`CREATE INDEX "tasks_roots_listing_idx" ON "tasks" ("status", "task_type", "created_at") WHERE parent_id IS NULL`);
    await queryRunner.query(`CREATE INDEX "tasks_roots_created_idx" ON "tasks" ("created_at") WHERE parent_id IS NULL`);
  }
}
