import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Waiting for an agent is a line in Redis, not a poll: a waiting step keeps its line
 * (`waiting_on`) and its rank in it (`queue_rank`), so that a line Redis lost is rebuilt in the
 * same order, and is no longer due (no `next_attempt_at`), so the sweeper never reads it. The
 * index finds the steps waiting in lines for that rebuild. A root keeps the key its steps take
 * turns by (`fairness_key`; null: its requester).
 */
export class DispatchQueue1764000000015 implements MigrationInterface {
  name = 'DispatchQueue1764000000015';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "queue_rank" double precision`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "fairness_key" text`);
    await queryRunner.query(`CREATE INDEX "tasks_waiting_idx" ON "tasks" ("updated_at") WHERE status = 'PENDING' AND waiting_on IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "tasks_waiting_idx"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "fairness_key"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "queue_rank"`);
  }
}
