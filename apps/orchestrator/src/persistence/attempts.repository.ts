import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { TaskStatus } from '@orchestrator/contracts';
import { DataSource } from 'typeorm';

/** Where a sub-task's row stands: enough to tell whether an answer or a report about it can count. */
export interface AttemptRow {
  id: string;
  status: TaskStatus;
  attempts: number;
  agent_name: string | null;
}

/** The one query of sub-task rows made outside a transition: by primary key, without a lock. */
@Injectable()
export class AttemptsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async states(ids: readonly string[]): Promise<AttemptRow[]> {
    return this.dataSource.query(`SELECT id, status, attempts, agent_name FROM tasks WHERE id = ANY($1::uuid[])`, [ids]);
  }
}
