import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { OverlapPolicy, ScheduleRunKind, ScheduleRunOutcome, ScheduleSpec, TaskPriority } from '@orchestrator/contracts';
import pLimit from 'p-limit';
import { DataSource } from 'typeorm';

/** A schedule as stored: its spec, where it is, its counts. */
export interface ScheduleRow extends ScheduleSpec {
  file: string | null;
  next_fire_at: Date | null;
  last_task_id: string | null;
  buffered_task_id: string | null;
  fires: number;
  skipped: number;
  created_at: Date;
  updated_at: Date;
}

/** A tick's run as stored, with the status of its task when there is one. */
export interface RunRow {
  schedule_id: string;
  task_id: string;
  tick_at: Date;
  kind: ScheduleRunKind;
  outcome: ScheduleRunOutcome;
  reason: string | null;
  created_at: Date;
  status: string | null;
}

export type NewRun = Omit<RunRow, 'created_at' | 'status'>;

/** What a pass changes in a schedule. */
export interface Advance {
  next_fire_at?: Date | null;
  last_task_id?: string | null;
  buffered_task_id?: string | null;
  fires: number;
  skipped: number;
}

type Query = <T>(sql: string, params?: unknown[]) => Promise<T[]>;

/** The columns of a ScheduleRow, of the table or of an alias of it; bigints as numbers (a year of milliseconds, counts: all fit a double). */
function columns(alias = ''): string {
  const t = alias === '' ? '' : `${alias}.`;
  const plain = ['schedule_id', 'task_type', 'payload', 'priority', 'cron', 'timezone', 'overlap', 'paused', 'file', 'next_fire_at', 'last_task_id', 'buffered_task_id', 'created_at', 'updated_at'];
  return [...plain.map((c) => `${t}${c}`), ...['every_ms', 'catchup_window_ms', 'fires', 'skipped'].map((c) => `${t}${c}::float8 AS ${c}`)].join(', ');
}

const COLUMNS = columns();
const SPEC_COLUMNS = ['task_type', 'payload', 'priority', 'cron', 'every_ms', 'timezone', 'overlap', 'catchup_window_ms', 'paused'] as const;

function specValues(spec: ScheduleSpec): unknown[] {
  return SPEC_COLUMNS.map((column) => (column === 'payload' ? JSON.stringify(spec.payload) : spec[column]));
}

function toRow(raw: Record<string, unknown>): ScheduleRow {
  return {
    ...(raw as unknown as ScheduleRow),
    overlap: raw['overlap'] as OverlapPolicy,
    priority: raw['priority'] as TaskPriority,
  };
}

/** The statements of a transaction that holds one schedule's row lock. */
export class ScheduleTransaction {
  constructor(private readonly query: Query) {}

  /** Of these task_ids, those whose workflow exists, with its status. */
  async taskStatuses(taskIds: readonly string[]): Promise<Map<string, string>> {
    if (taskIds.length === 0) return new Map();
    const rows = await this.query<{ task_id: string; status: string }>(
      `SELECT task_id, status FROM tasks WHERE task_id = ANY($1::text[]) AND parent_id IS NULL`,
      [taskIds],
    );
    return new Map(rows.map((row) => [row.task_id, row.status]));
  }

  /** Records runs; a tick recorded already keeps its first record. */
  async recordRuns(runs: readonly NewRun[]): Promise<void> {
    if (runs.length === 0) return;
    await this.query(
      `INSERT INTO schedule_runs (schedule_id, task_id, tick_at, kind, outcome, reason)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[])
       ON CONFLICT (schedule_id, task_id) DO NOTHING`,
      [runs.map((r) => r.schedule_id), runs.map((r) => r.task_id), runs.map((r) => r.tick_at), runs.map((r) => r.kind), runs.map((r) => r.outcome), runs.map((r) => r.reason)],
    );
  }

  /** Sets what a run became (a buffered tick started, or failed); returns how it came. */
  async settleRun(scheduleId: string, taskId: string, outcome: ScheduleRunOutcome, reason: string | null): Promise<ScheduleRunKind | null> {
    const rows = await this.query<{ kind: ScheduleRunKind }>(
      `UPDATE schedule_runs SET outcome = $3, reason = $4 WHERE schedule_id = $1 AND task_id = $2 RETURNING kind`,
      [scheduleId, taskId, outcome, reason],
    );
    return rows[0]?.kind ?? null;
  }

  /**
   * Claims backfill runs for these ticks: new ones, and ticks that were skipped or refused before;
   * returns the task_ids claimed (the others ran, or were claimed, already).
   */
  async claimBackfill(scheduleId: string, ticks: readonly { taskId: string; tick: Date }[]): Promise<Set<string>> {
    const rows = await this.query<{ task_id: string }>(
      `INSERT INTO schedule_runs (schedule_id, task_id, tick_at, kind, outcome)
       SELECT $1, task_id, tick_at, 'backfill', 'started' FROM unnest($2::text[], $3::timestamptz[]) AS v(task_id, tick_at)
       ON CONFLICT (schedule_id, task_id) DO UPDATE SET kind = 'backfill', outcome = 'started', reason = NULL, created_at = now()
         WHERE schedule_runs.outcome IN ('skipped', 'failed')
       RETURNING task_id`,
      [scheduleId, ticks.map((t) => t.taskId), ticks.map((t) => t.tick)],
    );
    return new Set(rows.map((row) => row.task_id));
  }

  async advance(scheduleId: string, change: Advance): Promise<void> {
    const sets = ['fires = fires + $2', 'skipped = skipped + $3', 'updated_at = now()'];
    const params: unknown[] = [scheduleId, change.fires, change.skipped];
    for (const column of ['next_fire_at', 'last_task_id', 'buffered_task_id'] as const) {
      if (change[column] !== undefined) sets.push(`${column} = $${params.push(change[column])}`);
    }
    await this.query(`UPDATE schedules SET ${sets.join(', ')} WHERE schedule_id = $1`, params);
  }
}

/** Every query of the `schedules` and `schedule_runs` tables. */
@Injectable()
export class SchedulesRepository {
  /**
   * A replica holds one schedule's lock at a time: the run it submits meanwhile needs a connection
   * of the same pool, which a pile of schedule transactions could otherwise all hold.
   */
  private readonly turn = pLimit(1);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Inserts a new schedule; false when its id is taken. */
  async insert(spec: ScheduleSpec, nextFireAt: Date | null, file: string | null = null): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `INSERT INTO schedules (schedule_id, ${SPEC_COLUMNS.join(', ')}, next_fire_at, file)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (schedule_id) DO NOTHING RETURNING schedule_id`,
      [spec.schedule_id, ...specValues(spec), nextFireAt, file],
    );
    return rows.length > 0;
  }

  /** Replaces a schedule's spec; `nextFireAt` undefined keeps its place. */
  async replace(spec: ScheduleSpec, nextFireAt: Date | null | undefined): Promise<ScheduleRow | null> {
    const keep = nextFireAt === undefined;
    const rows = await this.dataSource.query<Record<string, unknown>[]>(
      `UPDATE schedules SET ${SPEC_COLUMNS.map((column, i) => `${column} = $${i + 2}${column === 'payload' ? '::jsonb' : ''}`).join(', ')},
              next_fire_at = CASE WHEN $12 THEN next_fire_at ELSE $11 END, updated_at = now()
        WHERE schedule_id = $1 RETURNING ${COLUMNS}`,
      [spec.schedule_id, ...specValues(spec), keep ? null : nextFireAt, keep],
    );
    return rows[0] ? toRow(rows[0]) : null;
  }

  async find(scheduleId: string): Promise<ScheduleRow | null> {
    const rows = await this.dataSource.query<Record<string, unknown>[]>(`SELECT ${COLUMNS} FROM schedules WHERE schedule_id = $1`, [scheduleId]);
    return rows[0] ? toRow(rows[0]) : null;
  }

  async list(): Promise<ScheduleRow[]> {
    const rows = await this.dataSource.query<Record<string, unknown>[]>(`SELECT ${COLUMNS} FROM schedules ORDER BY schedule_id`);
    return rows.map(toRow);
  }

  /** Deletes a schedule and its runs' records (not its runs); false when there is none. */
  async delete(scheduleId: string): Promise<boolean> {
    const [row] = await this.dataSource.query<[{ n: number }]>(
      `WITH gone AS (DELETE FROM schedules WHERE schedule_id = $1 RETURNING schedule_id),
            runs AS (DELETE FROM schedule_runs WHERE schedule_id IN (SELECT schedule_id FROM gone))
       SELECT count(*)::int AS n FROM gone`,
      [scheduleId],
    );
    return row.n > 0;
  }

  /** Pauses or resumes; resuming sets the next tick (those that came while paused are not caught up). */
  async setPaused(scheduleId: string, paused: boolean, nextFireAt: Date | null): Promise<ScheduleRow | null> {
    const rows = await this.dataSource.query<Record<string, unknown>[]>(
      `UPDATE schedules SET paused = $2, next_fire_at = CASE WHEN $2 OR paused = false THEN next_fire_at ELSE $3 END, updated_at = now()
        WHERE schedule_id = $1 RETURNING ${COLUMNS}`,
      [scheduleId, paused, nextFireAt],
    );
    return rows[0] ? toRow(rows[0]) : null;
  }

  /** The latest `limit` runs of each schedule, newest first, with their tasks' status. */
  async lastRuns(scheduleIds: readonly string[], limit: number): Promise<Map<string, RunRow[]>> {
    const runs = new Map<string, RunRow[]>();
    if (scheduleIds.length === 0) return runs;
    const rows = await this.dataSource.query<RunRow[]>(
      `SELECT r.schedule_id, r.task_id, r.tick_at, r.kind, r.outcome, r.reason, r.created_at, t.status
         FROM unnest($1::text[]) AS s(id)
         CROSS JOIN LATERAL (SELECT * FROM schedule_runs WHERE schedule_id = s.id ORDER BY created_at DESC, tick_at DESC LIMIT $2) AS r
         LEFT JOIN tasks AS t ON t.task_id = r.task_id AND t.parent_id IS NULL`,
      [scheduleIds, limit],
    );
    for (const row of rows) runs.set(row.schedule_id, [...(runs.get(row.schedule_id) ?? []), row]);
    return runs;
  }

  /** Milliseconds until the next tick of an active schedule (negative when one is due), by the database's clock; null when none. */
  async nextDueInMs(): Promise<number | null> {
    const [row] = await this.dataSource.query<[{ ms: number | null }]>(
      `SELECT (extract(epoch FROM (SELECT min(next_fire_at) FROM schedules WHERE NOT paused) - clock_timestamp()) * 1000)::float8 AS ms`,
    );
    return row.ms;
  }

  /** Runs `work` on one due schedule that no other transaction holds, locked, other than `passOver`; null when there is none. */
  withDue<T>(passOver: readonly string[], work: (tx: ScheduleTransaction, row: ScheduleRow, now: Date) => Promise<T>): Promise<T | null> {
    return this.locked(
      `SELECT ${COLUMNS}, clock_timestamp() AS db_now FROM schedules
        WHERE NOT paused AND next_fire_at <= clock_timestamp() AND NOT (schedule_id = ANY($1::text[]))
        ORDER BY next_fire_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [passOver],
      work,
    );
  }

  /**
   * Runs `work` on one schedule whose waiting tick (buffer_one) may start, its last run ended, that
   * no other transaction holds; null when there is none. A tick that came before a pause still
   * starts: pausing stops ticks from coming, not those that came.
   */
  withBuffered<T>(work: (tx: ScheduleTransaction, row: ScheduleRow, now: Date) => Promise<T>): Promise<T | null> {
    return this.locked(
      `SELECT ${columns('s')}, clock_timestamp() AS db_now
         FROM schedules AS s LEFT JOIN tasks AS t ON t.task_id = s.last_task_id AND t.parent_id IS NULL
        WHERE s.buffered_task_id IS NOT NULL AND (t.status IS NULL OR t.status IN ('COMPLETED', 'FAILED', 'CANCELLED'))
        LIMIT 1 FOR UPDATE OF s SKIP LOCKED`,
      [],
      work,
    );
  }

  /** Runs `work` on a schedule, locked (waiting for another transaction that holds it); null when there is none. */
  withSchedule<T>(scheduleId: string, work: (tx: ScheduleTransaction, row: ScheduleRow, now: Date) => Promise<T>): Promise<T | null> {
    return this.locked(`SELECT ${COLUMNS}, clock_timestamp() AS db_now FROM schedules WHERE schedule_id = $1 FOR UPDATE`, [scheduleId], work);
  }

  /**
   * Makes the schedules of files what the files say, under one lock so that replicas starting
   * together do it in turn: new ones inserted (paused if the file says so), changed ones replaced
   * (their next tick set again only when their timing changed; pausing is left as it is, a state
   * of the running schedule), and those whose file is gone deleted. An API schedule of the same id
   * becomes the file's.
   */
  async syncFiles(schedules: readonly { spec: ScheduleSpec; file: string; nextFireAt: Date | null }[]): Promise<{ added: string[]; changed: string[]; removed: string[] }> {
    return this.inTransaction(async (query) => {
      await query(`SELECT pg_advisory_xact_lock(hashtext('orchestrator schedule files'))`);
      const added: string[] = [];
      const changed: string[] = [];
      for (const { spec, file, nextFireAt } of schedules) {
        const [row] = await query<{ inserted: boolean; changed: boolean }>(
          `WITH old AS (SELECT cron, every_ms, timezone FROM schedules WHERE schedule_id = $1)
           INSERT INTO schedules AS s (schedule_id, ${SPEC_COLUMNS.join(', ')}, next_fire_at, file)
           VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (schedule_id) DO UPDATE SET
             ${SPEC_COLUMNS.filter((c) => c !== 'paused').map((c) => `${c} = excluded.${c}`).join(', ')}, file = excluded.file,
             next_fire_at = CASE WHEN (s.cron, s.every_ms, s.timezone) IS NOT DISTINCT FROM (excluded.cron, excluded.every_ms, excluded.timezone)
                                 THEN s.next_fire_at ELSE excluded.next_fire_at END,
             updated_at = CASE WHEN (${SPEC_COLUMNS.filter((c) => c !== 'paused').map((c) => `s.${c}`).join(', ')}, s.file)
                                    IS NOT DISTINCT FROM (${SPEC_COLUMNS.filter((c) => c !== 'paused').map((c) => `excluded.${c}`).join(', ')}, excluded.file)
                               THEN s.updated_at ELSE now() END
           RETURNING (SELECT count(*) = 0 FROM old) AS inserted, s.updated_at = now() AS changed`,
          [spec.schedule_id, ...specValues(spec), nextFireAt, file],
        );
        if (row?.inserted) added.push(spec.schedule_id);
        else if (row?.changed) changed.push(spec.schedule_id);
      }
      const removed = await query<{ schedule_id: string }>(
        `WITH gone AS (DELETE FROM schedules WHERE file IS NOT NULL AND NOT (schedule_id = ANY($1::text[])) RETURNING schedule_id),
              runs AS (DELETE FROM schedule_runs WHERE schedule_id IN (SELECT schedule_id FROM gone))
         SELECT schedule_id FROM gone`,
        [schedules.map((one) => one.spec.schedule_id)],
      );
      return { added, changed, removed: removed.map((row) => row.schedule_id) };
    });
  }

  /** Deletes up to `limit` run records made before `cutoff`; returns how many. */
  async pruneRuns(cutoff: Date, limit: number): Promise<number> {
    const [row] = await this.dataSource.query<[{ n: number }]>(
      `WITH doomed AS (SELECT schedule_id, task_id FROM schedule_runs WHERE created_at < $1 AND outcome <> 'buffered' ORDER BY created_at LIMIT $2),
            gone AS (DELETE FROM schedule_runs AS r USING doomed AS d WHERE r.schedule_id = d.schedule_id AND r.task_id = d.task_id RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [cutoff, limit],
    );
    return row.n;
  }

  private locked<T>(select: string, params: unknown[], work: (tx: ScheduleTransaction, row: ScheduleRow, now: Date) => Promise<T>): Promise<T | null> {
    return this.turn(() =>
      this.inTransaction(async (query) => {
        const [raw] = await query<Record<string, unknown>>(select, params);
        if (!raw) return null;
        const { db_now: now, ...row } = raw;
        return work(new ScheduleTransaction(query), toRow(row), now as Date);
      }),
    );
  }

  private async inTransaction<T>(work: (query: Query) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      try {
        const out = await work(<R>(sql: string, params: unknown[] = []) => runner.query(sql, params) as Promise<R[]>);
        await runner.commitTransaction();
        return out;
      } catch (error) {
        await runner.rollbackTransaction().catch(() => undefined);
        throw error;
      }
    } finally {
      await runner.release();
    }
  }
}
