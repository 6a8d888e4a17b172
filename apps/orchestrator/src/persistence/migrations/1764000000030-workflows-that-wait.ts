import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Steps that wait — for a signal, an external event or a time — are rows in status WAITING with at
 * most one due time, found by partial indexes that hold only waiting rows: a timeout
 * (`deadline_at`), the end of a sleep (`next_attempt_at`), the key of what they wait for
 * (`wait_key`: `signal:<name>`, or `event:` and a hash of the event's name and matched values),
 * so that waiting rows cost the sweeper nothing until they are due and an event finds its steps
 * by one index lookup. Signals are kept per workflow (`workflow_signals`): those that came before
 * their step until a step takes them, each `signal_id` once. `event_shapes` says, per event name,
 * which sets of fields steps match on (to hash an event's values as the steps did) and how long
 * events are kept for steps that start later (`external_events`).
 */
export class WorkflowsThatWait1764000000030 implements MigrationInterface {
  name = 'WorkflowsThatWait1764000000030';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "wait_key" text`);
    await queryRunner.query(`CREATE INDEX "tasks_waiting_key_idx" ON "tasks" ("wait_key") WHERE status = 'WAITING' AND wait_key IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "tasks_waiting_deadline_idx" ON "tasks" ("deadline_at") WHERE status = 'WAITING' AND deadline_at IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "tasks_waiting_wake_idx" ON "tasks" ("next_attempt_at") WHERE status = 'WAITING' AND next_attempt_at IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "tasks_waiting_signal_idx" ON "tasks" ("started_at", "id") WHERE status = 'WAITING' AND wait_key LIKE 'signal:%'`);
    await queryRunner.query(
      `CREATE TABLE "workflow_signals" (
         "id" bigserial NOT NULL,
         "root_id" uuid NOT NULL,
         "signal" text NOT NULL,
         "signal_id" text,
         "payload" jsonb NOT NULL DEFAULT '{}'::jsonb,
         "sent_by" jsonb,
         "received_at" timestamptz NOT NULL DEFAULT now(),
         "taken_by" uuid,
         CONSTRAINT "PK_workflow_signals_id" PRIMARY KEY ("id")
       )`,
    );
    await queryRunner.query(`CREATE INDEX "workflow_signals_root_idx" ON "workflow_signals" ("root_id", "signal", "id")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workflow_signals_signal_id_key" ON "workflow_signals" ("root_id", "signal_id") WHERE signal_id IS NOT NULL`);
    await queryRunner.query(
      `CREATE TABLE "event_shapes" (
         "event" text NOT NULL,
         "keys" text[] NOT NULL,
         "lookback_ms" integer NOT NULL DEFAULT 0,
         CONSTRAINT "PK_event_shapes" PRIMARY KEY ("event", "keys")
       )`,
    );
    await queryRunner.query(
      `CREATE TABLE "external_events" (
         "id" bigserial NOT NULL,
         "event" text NOT NULL,
         "payload" jsonb NOT NULL,
         "received_at" timestamptz NOT NULL DEFAULT now(),
         "keep_until" timestamptz NOT NULL,
         CONSTRAINT "PK_external_events_id" PRIMARY KEY ("id")
       )`,
    );
    await queryRunner.query(`CREATE INDEX "external_events_event_idx" ON "external_events" ("event", "received_at")`);
    await queryRunner.query(`CREATE INDEX "external_events_payload_idx" ON "external_events" USING gin ("payload" jsonb_path_ops)`);
    await queryRunner.query(`CREATE INDEX "external_events_expiry_idx" ON "external_events" ("keep_until")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "external_events"`);
    await queryRunner.query(`DROP TABLE "event_shapes"`);
    await queryRunner.query(`DROP TABLE "workflow_signals"`);
    await queryRunner.query(`DROP INDEX "tasks_waiting_signal_idx"`);
    await queryRunner.query(`DROP INDEX "tasks_waiting_wake_idx"`);
    await queryRunner.query(`DROP INDEX "tasks_waiting_deadline_idx"`);
    await queryRunner.query(`DROP INDEX "tasks_waiting_key_idx"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "wait_key"`);
  }
}
