import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateTasks1764000000000 implements MigrationInterface {
  name = 'CreateTasks1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "tasks" (
        "id" uuid NOT NULL,
        "task_id" text NOT NULL,
        "parent_id" uuid,
        "root_id" uuid NOT NULL,
        "task_type" text NOT NULL,
        "step_key" text,
        "agent_name" text,
        "status" text NOT NULL,
        "priority" text NOT NULL DEFAULT 'NORMAL',
        "attempts" integer NOT NULL DEFAULT 0,
        "max_attempts" integer NOT NULL DEFAULT 1,
        "next_attempt_at" TIMESTAMP WITH TIME ZONE,
        "deadline_at" TIMESTAMP WITH TIME ZONE,
        "payload" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "result" jsonb,
        "error" text,
        "requester_id" text,
        "reply_to" text,
        "plan" jsonb,
        "response_sent_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "started_at" TIMESTAMP WITH TIME ZONE,
        "completed_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_tasks_id" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "tasks_root_task_id_key" ON "tasks" ("task_id") WHERE parent_id IS NULL`,
    );
    await queryRunner.query(`CREATE INDEX "tasks_root_id_idx" ON "tasks" ("root_id")`);
    await queryRunner.query(
      `CREATE INDEX "tasks_due_retry_idx" ON "tasks" ("next_attempt_at") WHERE status = 'PENDING' AND next_attempt_at IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "tasks_due_deadline_idx" ON "tasks" ("deadline_at") WHERE status = 'RUNNING' AND deadline_at IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "tasks_unsent_response_idx" ON "tasks" ("completed_at") WHERE parent_id IS NULL AND completed_at IS NOT NULL AND response_sent_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "tasks_roots_listing_idx" ON "tasks" ("status", "task_type", "created_at") WHERE parent_id IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "tasks"`);
  }
}
