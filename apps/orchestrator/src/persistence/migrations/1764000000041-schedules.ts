import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Schedules and their runs. A replica finds the due schedules on `schedules_due_idx` (next fire
 * time among those not paused) and locks them `FOR UPDATE SKIP LOCKED`; a tick waiting for its
 * last run to end is found on `schedules_buffered_idx`. A run is one row per tick that came, keyed
 * by the task_id its tick gives (`sched:<schedule_id>:<epoch ms>`), so a tick is recorded once.
 */
export class Schedules1764000000041 implements MigrationInterface {
  name = 'Schedules1764000000041';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "schedules" (
        "schedule_id" text PRIMARY KEY,
        "task_type" text NOT NULL,
        "payload" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "priority" text NOT NULL DEFAULT 'NORMAL',
        "cron" text,
        "every_ms" bigint,
        "timezone" text,
        "overlap" text NOT NULL DEFAULT 'skip',
        "catchup_window_ms" bigint NOT NULL DEFAULT 60000,
        "paused" boolean NOT NULL DEFAULT false,
        "file" text,
        "next_fire_at" TIMESTAMP WITH TIME ZONE,
        "last_task_id" text,
        "buffered_task_id" text,
        "fires" bigint NOT NULL DEFAULT 0,
        "skipped" bigint NOT NULL DEFAULT 0,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "schedules_timing_check" CHECK ((cron IS NULL) <> (every_ms IS NULL))
      )`);
    await queryRunner.query(`CREATE INDEX "schedules_due_idx" ON "schedules" ("next_fire_at") WHERE NOT paused`);
    await queryRunner.query(`CREATE INDEX "schedules_buffered_idx" ON "schedules" ("buffered_task_id") WHERE buffered_task_id IS NOT NULL`);
    await queryRunner.query(`
      CREATE TABLE "schedule_runs" (
        "schedule_id" text NOT NULL,
        "task_id" text NOT NULL,
        "tick_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "kind" text NOT NULL,
        "outcome" text NOT NULL,
        "reason" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_schedule_runs" PRIMARY KEY ("schedule_id", "task_id")
      )`);
    await queryRunner.query(`CREATE INDEX "schedule_runs_recent_idx" ON "schedule_runs" ("schedule_id", "created_at")`);
    await queryRunner.query(`CREATE INDEX "schedule_runs_created_idx" ON "schedule_runs" ("created_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "schedule_runs"`);
    await queryRunner.query(`DROP TABLE "schedules"`);
  }
}
