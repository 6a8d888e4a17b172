import type { HistoryBatch, HistoryEvent } from '@orchestrator/contracts';
import type { TaskEventsRepository } from '../persistence/task-events.repository.js';
import type { HistorySink } from './history-relay.service.js';
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
export class WorkflowStream implements HistorySink {
  private last: number;
  /** Everything the stream does, in turn: the catch-up first, then each batch as it came. */
  private turn: Promise<void> = Promise.resolve();

  constructor(
    private readonly rootId: string,
    after: number,
    private readonly events: TaskEventsRepository,
    private readonly sse: SseConnection,
    private readonly onError: (error: unknown) => void,
  ) {
    this.last = after;
    this.turn = this.run(() => this.readUpTo(Number.MAX_SAFE_INTEGER));
  }

  onBatch(batch: HistoryBatch): void {
    if (batch.root_id !== this.rootId) return;
    this.turn = this.run(async () => {
      const first = batch.events[0];
      if (!first) return;
      if (batch.prev_id !== null && batch.prev_id > this.last) await this.readUpTo(first.id);
      for (const event of batch.events) this.send(event);
    });
  }

  close(): void {
    this.sse.close();
  }

  private run(work: () => Promise<void>): Promise<void> {
    return this.turn.then(work).catch((error: unknown) => {
      this.onError(error);
      // It cannot promise what it sends now: the client resumes from the last event it got.
      this.sse.close();
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
