import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Every query of the `orchestrator_secrets` table. */
@Injectable()
export class SecretsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The secret under `name`: the one stored, or `candidate` when none was (two replicas starting together agree on the first). */
  async shared(name: string, candidate: string): Promise<string> {
    await this.dataSource.query(`INSERT INTO orchestrator_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [name, candidate]);
    // A statement of its own: it sees the row another replica inserted while this one waited on it.
    const rows: { value: string }[] = await this.dataSource.query(`SELECT value FROM orchestrator_secrets WHERE name = $1`, [name]);
    const value = rows[0]?.value;
    if (value === undefined) throw new Error(`the secret ${name} could not be read`);
    return value;
  }
}
