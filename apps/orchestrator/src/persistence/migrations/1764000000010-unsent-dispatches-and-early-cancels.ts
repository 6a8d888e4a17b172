import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two small tables that make delivery survive a process dying at the wrong moment.
 * `unsent_dispatches`: a sub-task attempt is inserted in the transaction that dispatches it and
 * deleted once its message is published; one left for longer than DISPATCH_RESEND_AFTER_MS is
 * published again by any replica (found oldest first on `since`). `early_cancels`: a cancel that
 * came for a child workflow (a `workflow:` step's sub-task id) before its root existed; the root,
 * when it is created, starts cancelled and takes the row away.
 */
export class UnsentDispatchesAndEarlyCancels1764000000010 implements MigrationInterface {
  name = 'UnsentDispatchesAndEarlyCancels1764000000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "unsent_dispatches" (
         "row_id" uuid NOT NULL,
         "attempt" integer NOT NULL,
         "since" timestamptz NOT NULL DEFAULT clock_timestamp(),
         CONSTRAINT "PK_unsent_dispatches" PRIMARY KEY ("row_id", "attempt")
       )`,
    );
    await queryRunner.query(`CREATE INDEX "unsent_dispatches_since_idx" ON "unsent_dispatches" ("since")`);
    await queryRunner.query(
      `CREATE TABLE "early_cancels" (
         "task_id" text NOT NULL,
         "requested_at" timestamptz NOT NULL DEFAULT now(),
         CONSTRAINT "PK_early_cancels" PRIMARY KEY ("task_id")
       )`,
    );
    await queryRunner.query(`CREATE INDEX "early_cancels_requested_idx" ON "early_cancels" ("requested_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "early_cancels"`);
    await queryRunner.query(`DROP TABLE "unsent_dispatches"`);
  }
}
