import { Injectable } from '@nestjs/common';
import { historySubject, HistoryKind, type HistoryBatch, type HistoryEvent } from '@orchestrator/contracts';
import type { SentEventRow } from '../persistence/workflow-transaction.js';
import { MessagePublisher } from '../transport/message-publisher.js';

/**
 * Publishes committed history, one message per workflow per commit, on
 * `platform.events.history.<task_type>`: every replica relays it to its stream clients.
 */
@Injectable()
export class HistoryPublisher {
  constructor(private readonly publisher: MessagePublisher) {}

  publish(batch: HistoryBatch): void {
    const first = batch.events[0];
    if (first) this.publisher.publish(historySubject(first.task_type), batch);
  }

  /** The `answer_sent` events of final responses marked sent. */
  publishSent(rows: readonly SentEventRow[]): void {
    for (const row of rows) {
      const event: HistoryEvent = {
        id: Number(row.id),
        task_id: row.task_id,
        task_type: row.task_type,
        step_id: null,
        kind: HistoryKind.AnswerSent,
        status: row.status,
        at: new Date(row.at).toISOString(),
        data: null,
      };
      this.publish({ root_id: row.root_id, prev_id: row.prev_id === null ? null : Number(row.prev_id), events: [event] });
    }
  }
}
