import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The history of workflows (`task_events`), append-only, written in the transactions of the
 * transitions it records; read by workflow in id order (`task_events_root_idx`) and by id for
 * streams that resume. No foreign key to `tasks`: a retention job deletes a workflow's events in
 * batches, by root. Steps keep the latest progress their agent reported.
 */
export class TaskEvents1764000000005 implements MigrationInterface {
  name = 'TaskEvents1764000000005';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "task_events" (
         "id" bigserial NOT NULL,
         "root_id" uuid NOT NULL,
         "task_id" text NOT NULL,
         "task_type" text NOT NULL,
         "step_id" text,
         "kind" text NOT NULL,
         "status" text NOT NULL,
         "at" timestamptz NOT NULL DEFAULT clock_timestamp(),
         "data" jsonb,
         CONSTRAINT "PK_task_events_id" PRIMARY KEY ("id")
       )`,
    );
    await queryRunner.query(`CREATE INDEX "task_events_root_idx" ON "task_events" ("root_id", "id")`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "progress" jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "progress"`);
    await queryRunner.query(`DROP TABLE "task_events"`);
  }
}
