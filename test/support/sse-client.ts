import { waitFor } from './orchestrator-process.js';

/** One Server-Sent Event as received: its `id:` and its `data:` parsed as JSON. */
export interface SseEvent {
  id: string | undefined;
  data: Record<string, unknown>;
}

const decoder = new TextDecoder();

/**
 * A Server-Sent Events client as a browser's EventSource would be, on fetch: it records every
 * event and the last id, and says when the server ended the stream.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  lastEventId: string | undefined;
  ended = false;
  /** The body of a response other than 200. */
  error: unknown;

  private constructor(
    readonly status: number,
    private readonly abort: AbortController,
  ) {}

  /** Opens `url`; resolves once the response's headers came (a status other than 200 leaves it ended, with its body in `error`). */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController();
    const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: abort.signal });
    const client = new SseClient(res.status, abort);
    if (res.status !== 200 || !res.body) {
      client.error = await res.json().catch(() => undefined);
      client.ended = true;
      return client;
    }
    void client.read(res.body);
    return client;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          this.take(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // aborted, or the server went away
    }
    this.ended = true;
  }

  private take(block: string): void {
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length === 0) return;
    if (id !== undefined) this.lastEventId = id;
    this.events.push({ id, data: JSON.parse(data.join('\n')) as Record<string, unknown> });
  }

  /** Waits until an event passes `test` (or the stream ends, which fails). */
  async waitFor(what: string, test: (event: SseEvent) => boolean, timeoutMs = 30_000): Promise<SseEvent> {
    return waitFor(
      what,
      () => {
        const found = this.events.find(test);
        if (found) return found;
        if (this.ended) throw new Error(`the stream ended before ${what}`);
        return undefined;
      },
      timeoutMs,
      20,
    );
  }

  waitForEnd(timeoutMs = 30_000): Promise<true> {
    return waitFor('the stream to end', () => (this.ended ? true : undefined), timeoutMs, 20);
  }

  close(): void {
    this.abort.abort();
  }
}
