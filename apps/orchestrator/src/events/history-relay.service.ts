import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { HISTORY_WILDCARD, type HistoryBatch } from '@orchestrator/contracts';
import { MessagePublisher } from '../transport/message-publisher.js';

/** A stream client of this replica: told of every committed batch of history, whatever replica committed it. */
export interface HistorySink {
  onBatch(batch: HistoryBatch): void;
  close(): void;
}

const decoder = new TextDecoder();

/**
 * Every replica relays the history that any replica commits (`platform.events.history.>`, not in
 * a queue group: each replica gets all of it) to its own stream clients. What a client missed
 * (before it connected, while it was away, or a message lost with a replica that died after its
 * commit) it reads from `task_events`.
 */
@Injectable()
export class HistoryRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(HistoryRelay.name);
  private readonly sinks = new Set<HistorySink>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly publisher: MessagePublisher) {}

  onApplicationBootstrap(): void {
    this.unsubscribe = this.publisher.subscribe(HISTORY_WILDCARD, (message) => {
      // Most replicas serve no stream most of the time: nothing to read then (a client that comes reads the table).
      if (this.sinks.size === 0) return;
      let batch: HistoryBatch;
      try {
        batch = JSON.parse(decoder.decode(message.data)) as HistoryBatch;
      } catch {
        this.logger.warn(`ignored a message on ${message.subject} that is not JSON`);
        return;
      }
      if (!Array.isArray(batch.events)) return;
      for (const sink of this.sinks) sink.onBatch(batch);
    });
  }

  /** Adds a client until `remove` (call it when the client goes). */
  add(sink: HistorySink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  get clients(): number {
    return this.sinks.size;
  }

  /** Open streams would keep the HTTP server from closing: they end first (their clients reconnect elsewhere). */
  beforeApplicationShutdown(): void {
    this.unsubscribe?.();
    for (const sink of [...this.sinks]) sink.close();
    this.sinks.clear();
  }
}
