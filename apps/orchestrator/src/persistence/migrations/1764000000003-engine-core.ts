import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What lets a transition read only what it touches: the rows of a workflow's current steps, or
 * the items of one `for_each` step, by their parent (`tasks_parent_key_idx`); a `for_each` step's
 * counts of items; the depth of nested workflows; the agents a step waits on for a free slot, so
 * that the sweeper leaves it out while they are all full; the revision of a root's plan, read at every
 * event without reading (and decompressing) the plan; a hash of what a root's request asked, to
 * tell a repeat of it from another request under the same task_id. Due steps get an index in the order the sweeper
 * takes them, and finished workflows lose the due times some of their rows had kept.
 */
export class EngineCore1764000000003 implements MigrationInterface {
  name = 'EngineCore1764000000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "item_count" integer`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "items_started" integer NOT NULL DEFAULT 0`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "items_done" integer NOT NULL DEFAULT 0`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "depth" integer NOT NULL DEFAULT 1`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "waiting_on" text`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "plan_revision" integer NOT NULL DEFAULT 1`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "request_hash" text`);
    await queryRunner.query(`UPDATE tasks SET plan_revision = (plan->>'revision')::int WHERE parent_id IS NULL AND (plan->>'revision')::int > 1`);
    await queryRunner.query(`CREATE INDEX "tasks_parent_key_idx" ON "tasks" ("parent_id", "step_key") WHERE parent_id IS NOT NULL`);
    // GET /tasks without filters, newest first.
    await queryRunner.query(`CREATE INDEX "tasks_roots_created_idx" ON "tasks" ("created_at") WHERE parent_id IS NULL`);
    await queryRunner.query(`DROP INDEX "tasks_due_retry_idx"`);
    await queryRunner.query(
      `CREATE INDEX "tasks_due_dispatch_idx" ON "tasks" ((CASE priority WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'NORMAL' THEN 2 ELSE 3 END), created_at)
        WHERE status = 'PENDING' AND next_attempt_at IS NOT NULL AND parent_id IS NOT NULL`,
    );
    // Items counted from the rows of for_each steps that are running now.
    await queryRunner.query(
      `UPDATE tasks AS s SET item_count = c.total, items_started = c.started, items_done = c.done
         FROM (SELECT parent_id, count(*)::int AS total,
                      count(*) FILTER (WHERE status <> 'PENDING' OR attempts > 0 OR next_attempt_at IS NOT NULL)::int AS started,
                      count(*) FILTER (WHERE status = 'COMPLETED')::int AS done
                 FROM tasks WHERE parent_id IS NOT NULL AND parent_id <> root_id GROUP BY parent_id) AS c
        WHERE s.id = c.parent_id`,
    );
    await queryRunner.query(
      `UPDATE tasks AS t SET deadline_at = NULL, next_attempt_at = NULL,
              status = CASE WHEN t.status IN ('PENDING', 'RUNNING') THEN 'CANCELLED' ELSE t.status END
         FROM tasks AS r
        WHERE r.id = t.root_id AND r.parent_id IS NULL AND r.status IN ('COMPLETED', 'FAILED', 'CANCELLED')
          AND t.parent_id IS NOT NULL
          AND (t.deadline_at IS NOT NULL OR t.next_attempt_at IS NOT NULL OR t.status IN ('PENDING', 'RUNNING'))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "tasks_due_dispatch_idx"`);
    await queryRunner.query(
      `CREATE INDEX "tasks_due_retry_idx" ON "tasks" ("next_attempt_at") WHERE status = 'PENDING' AND next_attempt_at IS NOT NULL`,
    );
    await queryRunner.query(`DROP INDEX "tasks_roots_created_idx"`);
    await queryRunner.query(`DROP INDEX "tasks_parent_key_idx"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "request_hash"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "plan_revision"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "waiting_on"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "depth"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "items_done"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "items_started"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "item_count"`);
  }
}
