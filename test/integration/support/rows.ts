import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/** A row of the tasks table as a test writes it directly: the columns a test cares about, the rest defaulted. */
export interface RowSpec {
  id?: string;
  task_id?: string;
  parent_id?: string | null;
  root_id?: string;
  task_type?: string;
  step_key?: string | null;
  agent_name?: string | null;
  status?: string;
  priority?: string;
  attempts?: number;
  max_attempts?: number;
  next_attempt_at?: Date | null;
  deadline_at?: Date | null;
  payload?: Record<string, unknown>;
  result?: Record<string, unknown> | null;
  error?: string | null;
  plan?: Record<string, unknown> | null;
  plan_history?: unknown[] | null;
  waiting_on?: string | null;
  item_count?: number | null;
  items_started?: number;
  items_done?: number;
  created_at?: Date;
  completed_at?: Date | null;
  response_sent_at?: Date | null;
}

const JSON_COLUMNS = new Set(['payload', 'result', 'plan', 'plan_history']);

/** Inserts rows as given (the columns not given take the table's defaults); returns their ids in order. Roots are their own root. */
export async function insertRows(db: pg.Client, specs: readonly RowSpec[]): Promise<string[]> {
  const ids: string[] = [];
  for (const spec of specs) {
    const id = spec.id ?? randomUUID();
    const root = spec.parent_id ? spec.root_id : id;
    if (root === undefined) throw new Error(`row ${id} has a parent: give its root_id`);
    const row: Record<string, unknown> = { task_id: id, task_type: 'int_type', status: 'PENDING', ...spec, id, root_id: root };
    const columns = Object.keys(row).filter((column) => row[column] !== undefined);
    const values = columns.map((column) => (JSON_COLUMNS.has(column) && row[column] !== null ? JSON.stringify(row[column]) : row[column]));
    await db.query(`INSERT INTO tasks (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, values);
    ids.push(id);
  }
  return ids;
}

/** A workflow's root and its steps (children of the root), inserted; returns [root id, ...step ids]. */
export async function insertWorkflow(db: pg.Client, root: RowSpec, steps: readonly RowSpec[]): Promise<string[]> {
  const [rootId = ''] = await insertRows(db, [{ status: 'RUNNING', ...root }]);
  const stepIds = await insertRows(
    db,
    steps.map((step) => ({ parent_id: rootId, root_id: rootId, ...step })),
  );
  return [rootId, ...stepIds];
}

export const seconds = (s: number, from = Date.now()): Date => new Date(from + s * 1000);
