import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddTraceParent1764000000001 implements MigrationInterface {
  name = 'AddTraceParent1764000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tasks" ADD COLUMN "trace_parent" text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "trace_parent"`);
  }
}
