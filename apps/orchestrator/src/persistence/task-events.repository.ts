import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { HistoryEvent, HistoryKind } from '@orchestrator/contracts';
import { DataSource } from 'typeorm';

interface EventRow {
  id: string;
  task_id: string;
  task_type: string;
  step_id: string | null;
  kind: string;
  status: string;
  at: Date;
  data: Record<string, unknown> | null;
}

/** What the streams of all workflows may be narrowed to. */
export interface EventFilter {
  task_type?: string;
  status?: string;
}

const COLUMNS = 'id, task_id, task_type, step_id, kind, status, at, data';

function toEvent(row: EventRow): HistoryEvent {
  return {
    id: Number(row.id),
    task_id: row.task_id,
    task_type: row.task_type,
    step_id: row.step_id,
    kind: row.kind as HistoryKind,
    status: row.status,
    at: row.at.toISOString(),
    data: row.data,
  };
}

/** Every query of the `task_events` table (the history is written by the transitions' own statements). */
@Injectable()
export class TaskEventsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A workflow's events after `after` (an event id), at most `limit`, in order; `upTo` bounds them from above. */
  async ofRoot(rootId: string, after: number, limit: number, upTo: number = Number.MAX_SAFE_INTEGER): Promise<HistoryEvent[]> {
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM task_events WHERE root_id = $1 AND id > $2 AND id < $3 ORDER BY id LIMIT $4`,
      [rootId, after, upTo, limit],
    );
    return rows.map(toEvent);
  }

  /** Events of every workflow after `after`, and those among `also` (ids below it), at most `limit`, in id order. */
  async since(after: number, also: readonly number[], limit: number): Promise<HistoryEvent[]> {
    const rows: EventRow[] = await this.dataSource.query(
      `(SELECT ${COLUMNS} FROM task_events WHERE id > $1 ORDER BY id LIMIT $3)
        UNION ALL
       (SELECT ${COLUMNS} FROM task_events WHERE id = ANY($2::bigint[]) AND id <= $1)
        ORDER BY id`,
      [after, also, limit],
    );
    return rows.map(toEvent);
  }

  /** The id of the latest event, 0 when there is none. */
  async lastId(): Promise<number> {
    const [row] = await this.dataSource.query<[{ id: string | null }]>(`SELECT max(id) AS id FROM task_events`);
    return Number(row.id ?? 0);
  }
}
