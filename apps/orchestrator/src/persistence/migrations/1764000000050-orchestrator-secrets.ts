import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Secrets every replica shares and no client knows (the key that signs sub-tasks' reply
 * subjects): one row per secret, made by the first replica that needs it.
 */
export class OrchestratorSecrets1764000000050 implements MigrationInterface {
  name = 'OrchestratorSecrets1764000000050';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "orchestrator_secrets" (
         "name" text NOT NULL,
         "value" text NOT NULL,
         "created_at" timestamptz NOT NULL DEFAULT now(),
         CONSTRAINT "PK_orchestrator_secrets_name" PRIMARY KEY ("name")
       )`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "orchestrator_secrets"`);
  }
}
