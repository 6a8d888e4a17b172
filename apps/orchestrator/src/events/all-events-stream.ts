import type { HistoryBatch, HistoryEvent } from '@orchestrator/contracts';
import type { EventFilter, TaskEventsRepository } from '../persistence/task-events.repository.js';
import type { HistorySink } from './history-relay.service.js';
import { SerialStream } from './serial-stream.js';
import type { SseConnection } from './sse-connection.js';

const PAGE = 500;
/** An id skipped for this long is looked for in the table (its relayed message may be lost, with the replica that committed it). */
const HOLE_CHECK_MS = 1_000;
/** An id skipped for this long is taken for a transaction that rolled back (a commit follows its insert at once). */
const HOLE_GIVE_UP_MS = 30_000;
/** Skipped ids remembered at most. */
const MAX_HOLES = 1_000;

/** Where a stream of all workflows stands: every event up to `after` seen, but the ids in `holes`. */
export interface Cursor {
  after: number;
  holes: number[];
}

const CURSOR = /^(\d{1,15})(?:~(\d{1,15}(?:,\d{1,15})*))?$/;

/** Reads a cursor sent back as `Last-Event-ID` (`<after>` or `<after>~<hole>,<hole>…`); null when it is not one. */
export function parseCursor(text: string): Cursor | null {
  const match = CURSOR.exec(text);
  if (!match) return null;
  const after = Number(match[1]);
  const holes = (match[2] ?? '').split(',').filter((id) => id !== '').map(Number).filter((id) => id < after);
  return { after, holes: holes.slice(0, MAX_HOLES) };
}

export function formatCursor(cursor: Cursor): string {
  return cursor.holes.length === 0 ? String(cursor.after) : `${cursor.after}~${cursor.holes.join(',')}`;
}

/**
 * The stream of every workflow's history (filtered by task_type and status), live, resumable.
 * Across workflows, ids are not committed in order: a transaction may commit after another that
 * took later ids. So the stream's position is a cursor, the highest id seen and the ids below it
 * not seen yet (in flight, or rolled back); it is each event's SSE id, and a client that comes
 * back with it gets exactly what it had not seen. Ids missing for a second are looked for in the
 * table; after 30 seconds they are taken for rolled back.
 */
export class AllEventsStream extends SerialStream implements HistorySink {
  private after = 0;
  /** Skipped ids, with when they were first missed. */
  private readonly holes = new Map<number, number>();
  private readonly checker: NodeJS.Timeout;

  constructor(
    cursor: Cursor | null,
    private readonly filter: EventFilter,
    private readonly events: TaskEventsRepository,
    sse: SseConnection,
    onError: (error: unknown) => void,
  ) {
    super(sse, onError);
    this.enqueue(() => this.catchUp(cursor));
    this.checker = setInterval(() => {
      if (this.holes.size > 0) this.enqueue(() => this.fillHoles());
    }, HOLE_CHECK_MS);
    this.checker.unref();
    sse.closed$(() => clearInterval(this.checker));
  }

  onBatch(batch: HistoryBatch): void {
    this.enqueue(() => {
      for (const event of batch.events) this.accept(event);
      return Promise.resolve();
    });
  }


  private async catchUp(cursor: Cursor | null): Promise<void> {
    if (cursor === null) {
      // A new client: from now on.
      this.after = await this.events.lastId();
      return;
    }
    this.after = cursor.after;
    const now = Date.now();
    for (const id of cursor.holes) this.holes.set(id, now);
    for (let holes = cursor.holes; ; holes = []) {
      const page = await this.events.since(this.after, holes, PAGE);
      const newer = page.filter((event) => event.id > this.after).length;
      for (const event of page) this.accept(event);
      if (newer < PAGE || this.sse.isClosed) return;
    }
  }

  private async fillHoles(): Promise<void> {
    const now = Date.now();
    const due: number[] = [];
    for (const [id, since] of this.holes) {
      if (now - since > HOLE_GIVE_UP_MS) this.holes.delete(id);
      else if (now - since > HOLE_CHECK_MS) due.push(id);
    }
    if (due.length === 0) return;
    for (const event of await this.events.since(this.after, due, 0)) this.accept(event);
  }

  /** An event read or relayed: sent if the client has not seen it and it passes the filter. */
  private accept(event: HistoryEvent): void {
    if (event.id > this.after) {
      const now = Date.now();
      for (let id = this.after + 1; id < event.id && this.holes.size < MAX_HOLES; id++) this.holes.set(id, now);
      this.after = event.id;
    } else if (!this.holes.delete(event.id)) {
      return;
    }
    if (this.filter.task_type !== undefined && event.task_type !== this.filter.task_type) return;
    if (this.filter.status !== undefined && event.status !== this.filter.status) return;
    this.sse.send(formatCursor({ after: this.after, holes: [...this.holes.keys()] }), event);
  }
}
