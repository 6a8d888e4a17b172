import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ListPosition } from './tasks.repository.js';

/** A set of fields steps match an event on, and how long its events are kept for steps that start later. */
export interface EventShape {
  event: string;
  keys: string[];
  lookback_ms: number;
}

/** A step waiting for a signal, as `GET /approvals` lists it. */
export interface WaitingSignalRow {
  id: string;
  task_id: string;
  task_type: string;
  step_key: string;
  wait_key: string;
  payload: Record<string, unknown>;
  started_at: Date;
  deadline_at: Date | null;
  plan: { steps: { id: string; wait_for?: Record<string, unknown> }[] } | null;
  micros: string;
}

/** The queries about what steps wait for: event shapes, steps waiting for an event, kept events, steps waiting for a person. */
@Injectable()
export class WaitsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Records shapes (a shape seen before keeps the longest lookback; one already as long is left unlocked). */
  async registerShapes(shapes: readonly EventShape[]): Promise<void> {
    if (shapes.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO event_shapes (event, keys, lookback_ms)
       SELECT v.event, ARRAY(SELECT jsonb_array_elements_text(v.keys)), v.lookback_ms
         FROM jsonb_to_recordset($1::jsonb) AS v(event text, keys jsonb, lookback_ms int)
        WHERE NOT EXISTS (SELECT 1 FROM event_shapes AS s WHERE s.event = v.event AND s.keys = ARRAY(SELECT jsonb_array_elements_text(v.keys)) AND s.lookback_ms >= v.lookback_ms)
       ON CONFLICT (event, keys) DO UPDATE SET lookback_ms = GREATEST(event_shapes.lookback_ms, EXCLUDED.lookback_ms)`,
      [JSON.stringify(shapes)],
    );
  }

  async shapes(event: string): Promise<EventShape[]> {
    return this.dataSource.query(`SELECT event, keys, lookback_ms FROM event_shapes WHERE event = $1`, [event]);
  }

  /** The steps waiting with one of these keys (an index lookup among waiting rows). */
  async waitingFor(keys: readonly string[]): Promise<{ id: string; root_id: string; wait_key: string }[]> {
    if (keys.length === 0) return [];
    return this.dataSource.query(`SELECT id, root_id, wait_key FROM tasks WHERE status = 'WAITING' AND wait_key = ANY($1::text[])`, [keys]);
  }

  /** Keeps an event for steps that start within `keepMs`. */
  async keepEvent(event: string, payload: Record<string, unknown>, keepMs: number): Promise<void> {
    await this.dataSource.query(`INSERT INTO external_events (event, payload, keep_until) VALUES ($1, $2::jsonb, now() + $3 * interval '1 millisecond')`, [
      event,
      JSON.stringify(payload),
      keepMs,
    ]);
  }

  /** Deletes up to `limit` kept events whose time has passed; returns how many. */
  async deleteExpiredEvents(limit: number): Promise<number> {
    const [row] = await this.dataSource.query<[{ n: number }]>(
      `WITH gone AS (DELETE FROM external_events WHERE id IN (SELECT id FROM external_events WHERE keep_until < now() ORDER BY keep_until LIMIT $1) RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [limit],
    );
    return row.n;
  }

  /** Steps waiting for a signal, longest waiting first, after a position; one more than asked tells whether there is a next page. */
  async waitingForSignals(limit: number, after: ListPosition | undefined, signal: string | undefined): Promise<{ rows: WaitingSignalRow[]; more: boolean }> {
    const params: unknown[] = [limit + 1];
    const conditions = [`t.status = 'WAITING'`, `t.wait_key LIKE 'signal:%'`];
    if (signal !== undefined) conditions.push(`t.wait_key = $${params.push(`signal:${signal}`)}`);
    if (after) {
      const at = params.push(after.micros);
      const id = params.push(after.id);
      conditions.push(`(t.started_at, t.id) > (timestamptz 'epoch' + $${at}::bigint * interval '1 microsecond', $${id}::uuid)`);
    }
    const rows: WaitingSignalRow[] = await this.dataSource.query(
      `SELECT t.id, r.task_id, r.task_type, t.step_key, t.wait_key, t.payload, t.started_at, t.deadline_at, r.plan,
              (extract(epoch FROM t.started_at) * 1000000)::bigint::text AS micros
         FROM tasks AS t JOIN tasks AS r ON r.id = t.root_id
        WHERE ${conditions.join(' AND ')}
        ORDER BY t.started_at, t.id LIMIT $1`,
      params,
    );
    return { rows: rows.slice(0, limit), more: rows.length > limit };
  }
}
