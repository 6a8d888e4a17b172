import { HistoryKind, type HistoryEvent } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import type { TaskEventsRepository } from '../persistence/task-events.repository.js';
import { AllEventsStream, formatCursor, parseCursor } from './all-events-stream.js';
import type { SseConnection } from './sse-connection.js';

function event(id: number, taskType = 'a'): HistoryEvent {
  return { id, task_id: `t${id}`, task_type: taskType, step_id: null, kind: HistoryKind.Submitted, status: 'RUNNING', at: '2026-01-01T00:00:00.000Z', data: null };
}

const byId = (a: HistoryEvent, b: HistoryEvent): number => a.id - b.id;

/** The table as a stream reads it: events by id. */
class Table {
  readonly rows: HistoryEvent[] = [];

  repository(): TaskEventsRepository {
    return {
      since: (after: number, also: readonly number[], limit: number) => {
        const newer = this.rows.filter((e) => e.id > after).sort(byId).slice(0, limit);
        const holes = this.rows.filter((e) => e.id <= after && also.includes(e.id));
        return Promise.resolve([...newer, ...holes].sort(byId));
      },
      lastId: () => Promise.resolve(this.rows.reduce((max, e) => Math.max(max, e.id), 0)),
    } as unknown as TaskEventsRepository;
  }
}

class Sent {
  readonly events: { id: string; data: HistoryEvent }[] = [];
  closed = false;

  connection(): SseConnection {
    return {
      send: (id: string, data: HistoryEvent) => this.events.push({ id, data }),
      close: () => void (this.closed = true),
      closed$: () => undefined,
      isClosed: false,
    } as unknown as SseConnection;
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));

describe('cursors', () => {
  it('reads back what it writes, and refuses anything else', () => {
    expect(parseCursor(formatCursor({ after: 12, holes: [] }))).toEqual({ after: 12, holes: [] });
    expect(parseCursor(formatCursor({ after: 12, holes: [9, 11] }))).toEqual({ after: 12, holes: [9, 11] });
    for (const bad of ['', 'x', '12~', '12~a', '-1', '1.5']) expect(parseCursor(bad)).toBeNull();
  });
});

describe('AllEventsStream', () => {
  it('remembers the ids it skipped, sends them when they come, and resumes from its cursor with exactly what was not sent', async () => {
    const table = new Table();
    table.rows.push(event(1), event(2));
    const first = new Sent();
    const stream = new AllEventsStream({ after: 1, holes: [] }, {}, table.repository(), first.connection(), () => undefined);
    await settle();
    expect(first.events.map((e) => [e.id, e.data.id])).toEqual([['2', 2]]);
    // 4 commits before 3: 3 is a hole until it comes.
    stream.onBatch({ root_id: 'r', prev_id: null, events: [event(4)] });
    await settle();
    expect(first.events.at(-1)?.id).toBe('4~3');
    // The client goes away here; 3 and 5 are committed meanwhile.
    table.rows.push(event(4), event(3), event(5));
    const again = new Sent();
    const resumed = new AllEventsStream(parseCursor('4~3'), {}, table.repository(), again.connection(), () => undefined);
    await settle();
    expect(again.events.map((e) => [e.id, e.data.id])).toEqual([['4', 3], ['5', 5]]);
    // Relayed late, already sent: not again.
    resumed.onBatch({ root_id: 'r', prev_id: null, events: [event(3), event(5)] });
    await settle();
    expect(again.events).toHaveLength(2);
    stream.close();
    resumed.close();
  });

  it('sends only what passes its filter, yet moves its position past the rest', async () => {
    const table = new Table();
    const sent = new Sent();
    const stream = new AllEventsStream(null, { task_type: 'b' }, table.repository(), sent.connection(), () => undefined);
    await settle();
    stream.onBatch({ root_id: 'r', prev_id: null, events: [event(1, 'a'), event(2, 'b'), event(3, 'a'), event(4, 'b')] });
    await settle();
    expect(sent.events.map((e) => [e.id, e.data.id])).toEqual([['2', 2], ['4', 4]]);
    stream.close();
  });
});
