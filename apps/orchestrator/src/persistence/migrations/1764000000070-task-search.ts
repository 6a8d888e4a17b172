import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Searching tasks (GET /tasks): by requester, newest first like the other listings; by the agent
 * a step ran on (from a workflow's steps to its root); by text in a workflow's error (trigrams,
 * pg_trgm, when the server has it: it ships with PostgreSQL's contrib, part of Debian's
 * postgresql package); by fields of the request's payload (containment, jsonb_path_ops). All but
 * the agent's are partial indexes on roots: steps, the rows written most, do not enter them.
 */
export class TaskSearch1764000000070 implements MigrationInterface {
  name = 'TaskSearch1764000000070';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "tasks_roots_requester_idx" ON "tasks" ("requester_id", "created_at", "id") WHERE parent_id IS NULL`);
    await queryRunner.query(`CREATE INDEX "tasks_steps_agent_idx" ON "tasks" ("agent_name", "root_id") WHERE parent_id IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "tasks_roots_payload_idx" ON "tasks" USING gin ("payload" jsonb_path_ops) WHERE parent_id IS NULL`);
    const available = await queryRunner.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'`, [], true);
    if (available.records.length === 0) return;
    // Without the right to create the extension, error text is searched without an index.
    await queryRunner.query(`SAVEPOINT task_search_trgm`);
    try {
      await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
      await queryRunner.query(`CREATE INDEX "tasks_roots_error_idx" ON "tasks" USING gin ("error" gin_trgm_ops) WHERE parent_id IS NULL AND error IS NOT NULL`);
      await queryRunner.query(`RELEASE SAVEPOINT task_search_trgm`);
    } catch {
      await queryRunner.query(`ROLLBACK TO SAVEPOINT task_search_trgm`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS "tasks_roots_error_idx"`);
    await queryRunner.query(`DROP INDEX "tasks_roots_payload_idx"`);
    await queryRunner.query(`DROP INDEX "tasks_steps_agent_idx"`);
    await queryRunner.query(`DROP INDEX "tasks_roots_requester_idx"`);
  }
}
