import type { Response } from 'express';

/** A comment line every so often keeps proxies from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;
/** A client that reads slower than events come is dropped past this much unsent: it resumes with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** One Server-Sent Events response: `id:` and `data:` per event, a comment to keep it alive, closed by either side. */
export class SseConnection {
  private readonly keepAlive: NodeJS.Timeout;
  private closed = false;
  private readonly onClose: (() => void)[] = [];

  constructor(private readonly res: Response) {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    // Tells nginx and the like not to buffer the stream.
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    // A reconnecting client waits a second, not the browser's default of several.
    res.write('retry: 1000\n\n');
    this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    this.keepAlive.unref();
    res.on('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs `listener` once the connection closes, whichever side closed it. */
  closed$(listener: () => void): void {
    if (this.closed) listener();
    else this.onClose.push(listener);
  }

  send(id: string, data: unknown): void {
    this.write(`id: ${id}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    if (!this.res.writableEnded) this.res.end();
    for (const listener of this.onClose.splice(0)) listener();
  }

  private write(text: string): void {
    if (this.closed) return;
    if (this.res.writableLength > MAX_BUFFERED_BYTES) {
      this.close();
      return;
    }
    this.res.write(text);
  }
}
