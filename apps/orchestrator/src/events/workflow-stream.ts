import type { HistoryBatch, HistoryEvent } from '@orchestrator/contracts';
import type { TaskEventsRepository } from '../persistence/task-events.repository.js';
import type { HistorySink } from './history-relay.service.js';
import { SerialStream } from './serial-stream.js';
import type { SseConnection } from './sse-connection.js';

/** Rows read from the table at a time while catching up. */
const PAGE = 500;

/**
 * The stream of one workflow: its history from `after` on, read from the table, then live, in
 * order, each event once. A workflow's events are numbered in the order of their commits (they are
 * written under its lock), and each relayed batch says which event came before it: a batch that
 * does not follow the last event sent (one relayed late, or lost with a replica that died after
 * its commit) makes the stream read the missing ones from the table first.
 */
export class WorkflowStream extends SerialStream implements HistorySink {
  private last: number;

  constructor(
    private readonly rootId: string,
    after: number,
    private readonly events: TaskEventsRepository,
    sse: SseConnection,
    onError: (error: unknown) => void,
  ) {
    super(sse, onError);
    this.last = after;
    this.enqueue(() => this.readUpTo(Number.MAX_SAFE_INTEGER));
  }

  onBatch(batch: HistoryBatch): void {
    if (batch.root_id !== this.rootId) return;
    this.enqueue(async () => {
      const first = batch.events[0];
      if (!first) return;
      if (batch.prev_id !== null && batch.prev_id > this.last) await this.readUpTo(first.id);
      for (const event of batch.events) this.send(event);
    });
  }


  /** Sends the stored events after the last one sent and before `upTo`. */
  private async readUpTo(upTo: number): Promise<void> {
    for (;;) {
      const page = await this.events.ofRoot(this.rootId, this.last, PAGE, upTo);
      for (const event of page) this.send(event);
      if (page.length < PAGE || this.sse.isClosed) return;
    }
  }

  private send(event: HistoryEvent): void {
    if (event.id <= this.last) return;
    this.last = event.id;
    this.sse.send(String(event.id), event);
  }
}
