import { setTimeout as sleep } from 'node:timers/promises';
import type { HistoryEvent, TaskStatus } from '@orchestrator/contracts';
import { createParser } from 'eventsource-parser';
import { httpError, OrchestratorError } from './orchestrator-error.js';

export interface HistoryStreamOptions {
  /** One workflow's history from its start (or after `after`), then live; without it, every workflow's, live from now. */
  taskId?: string;
  /** With `taskId`: start after this event id. */
  after?: number;
  /** Without `taskId`: only workflows of this task type. */
  taskType?: string;
  /** Without `taskId`: only events after which the workflow has this status. */
  status?: TaskStatus | `${TaskStatus}`;
  /** Resume after the last event a stream gave (its `lastEventId`). */
  lastEventId?: string;
  /** Ends the stream when aborted. */
  signal?: AbortSignal;
  /** Told each time the connection dropped and the stream connects again (after the server's `retry:` delay, or a 503's `Retry-After`). */
  onReconnect?: (reason: unknown, attempt: number) => void;
  /** Connections in a row that may fail before the stream gives up with the last error; default 10. */
  maxReconnects?: number;
}

/** What the stream needs of the HTTP API: where it is, its headers (the API key) and fetch. */
export interface StreamTransport {
  base: string;
  headers: Record<string, string>;
  fetch: typeof fetch;
}

/** The server's default before a reconnection; its `retry:` field replaces it. */
const DEFAULT_RETRY_MS = 1000;

/** The route and query of a stream. */
export function streamPath(options: HistoryStreamOptions): string {
  const params = new URLSearchParams();
  if (options.taskId !== undefined) {
    if (options.after !== undefined) params.set('after', String(options.after));
  } else {
    if (options.taskType !== undefined) params.set('task_type', options.taskType);
    if (options.status !== undefined) params.set('status', options.status);
  }
  const query = params.size > 0 ? `?${params.toString()}` : '';
  return options.taskId !== undefined ? `/tasks/${encodeURIComponent(options.taskId)}/stream${query}` : `/events/stream${query}`;
}

/**
 * A live stream of history events (Server-Sent Events), as an async iterator. When the connection
 * drops it connects again with `Last-Event-ID`, so each event comes once and none is missed; it
 * ends when `signal` aborts or the loop reading it stops. An answer other than 2xx throws
 * OrchestratorError (a 404 for an unknown task at once; a 5xx after `maxReconnects` tries).
 */
export class HistoryStream implements AsyncIterable<HistoryEvent> {
  /** The id of the last event given: pass it as `lastEventId` to resume elsewhere. */
  lastEventId: string | undefined;

  constructor(
    private readonly transport: StreamTransport,
    private readonly options: HistoryStreamOptions = {},
  ) {
    this.lastEventId = options.lastEventId;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<HistoryEvent> {
    const url = `${this.transport.base}${streamPath(this.options)}`;
    const { signal } = this.options;
    let retryMs = DEFAULT_RETRY_MS;
    let failures = 0;
    while (!signal?.aborted) {
      const abort = new AbortController();
      const stop = (): void => abort.abort();
      signal?.addEventListener('abort', stop, { once: true });
      let reason: unknown;
      try {
        const headers: Record<string, string> = { ...this.transport.headers, accept: 'text/event-stream' };
        if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
        const res = await this.transport.fetch(url, { headers, signal: abort.signal });
        if (!res.ok || !res.body) {
          const text = await res.text();
          const error = httpError(res.status, parseJson(text), res.headers);
          if (res.status < 500) throw error;
          reason = error;
        } else {
          failures = 0;
          const received: HistoryEvent[] = [];
          const parser = createParser({
            onEvent: (message) => {
              received.push(parseEvent(message.data));
              if (message.id !== undefined) this.lastEventId = message.id;
            },
            onRetry: (ms) => (retryMs = ms),
          });
          const decoder = new TextDecoder();
          for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
            parser.feed(decoder.decode(chunk, { stream: true }));
            while (received.length > 0) yield received.shift() as HistoryEvent;
          }
          reason = new OrchestratorError(`${url}: the server closed the stream`, { code: 'UNAVAILABLE' });
        }
      } catch (error) {
        if (signal?.aborted) return;
        if (error instanceof OrchestratorError && error.status !== undefined && error.status < 500) throw error;
        reason = error;
      } finally {
        // Also when the reader stops early: the connection goes with it.
        signal?.removeEventListener('abort', stop);
        abort.abort();
      }
      failures += 1;
      if (failures > (this.options.maxReconnects ?? 10)) throw unavailable(url, reason);
      this.options.onReconnect?.(reason, failures);
      const wait = reason instanceof OrchestratorError && reason.retryAfterMs !== undefined ? reason.retryAfterMs : retryMs;
      await sleep(wait, undefined, signal ? { signal } : {}).catch(() => undefined);
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

function parseEvent(data: string): HistoryEvent {
  try {
    return JSON.parse(data) as HistoryEvent;
  } catch (error) {
    throw new OrchestratorError(`the stream sent an event that is not JSON: ${data.slice(0, 200)}`, { code: 'INVALID_EVENT' }, { cause: error });
  }
}

function unavailable(url: string, reason: unknown): OrchestratorError {
  if (reason instanceof OrchestratorError) return reason;
  const message = reason instanceof Error ? (reason.cause instanceof Error ? reason.cause.message : reason.message) : String(reason);
  return new OrchestratorError(`GET ${url}: ${message}`, { code: 'UNAVAILABLE' }, { cause: reason });
}
