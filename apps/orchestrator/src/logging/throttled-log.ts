import type { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';

/** How often one kind of message is logged at most. */
const LOG_EVERY_MS = 60_000;

/**
 * Warnings logged once a minute per key (a sender, a reason), so that a client sending bad
 * messages in a loop fills neither the log nor memory: the keys remembered are bounded.
 */
export class ThrottledLog {
  private readonly logged: LRUCache<string, true>;

  /** `clock`: what tells the minute, in milliseconds (performance by default). */
  constructor(
    private readonly logger: Logger,
    maxKeys: number,
    clock: { now(): number } = performance,
  ) {
    this.logged = new LRUCache<string, true>({ max: maxKeys, ttl: LOG_EVERY_MS, perf: clock });
  }

  /** Logs `message` unless a message under `key` was logged in the last minute. */
  warn(key: string, message: string): void {
    if (this.logged.has(key)) return;
    this.logged.set(key, true);
    this.logger.warn(message);
  }
}
