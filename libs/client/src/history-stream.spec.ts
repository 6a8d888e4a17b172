import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HistoryEvent } from '@orchestrator/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStream, streamPath } from './history-stream.js';
import { OrchestratorError } from './orchestrator-error.js';

const event = (id: number): HistoryEvent => ({ id, task_id: 't-1', task_type: 'x', step_id: null, kind: 'dispatched' as HistoryEvent['kind'], status: 'RUNNING', at: new Date(0).toISOString(), data: null });

/** A real HTTP server answering each request with `handler`; records the requests' URLs and Last-Event-IDs. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse, index: number) => void): Promise<{ base: string; seen: { url: string; last: string | undefined; key: string | undefined }[]; server: Server }> {
  const seen: { url: string; last: string | undefined; key: string | undefined }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', last: req.headers['last-event-id'] as string | undefined, key: req.headers['x-api-key'] as string | undefined });
    handler(req, res, seen.length - 1);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

function sse(res: ServerResponse, ...events: HistoryEvent[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write('retry: 20\n\n');
  for (const e of events) res.write(`id: ${e.id}\ndata: ${JSON.stringify(e)}\n\n`);
}

describe('streamPath', () => {
  it('names the route of one workflow or of all, with their own filters only', () => {
    expect(streamPath({ taskId: 'a/b', after: 3, taskType: 'ignored' })).toBe('/tasks/a%2Fb/stream?after=3');
    expect(streamPath({})).toBe('/events/stream');
    expect(streamPath({ taskType: 'create_blog_post', status: 'FAILED' })).toBe('/events/stream?task_type=create_blog_post&status=FAILED');
  });
});

describe('HistoryStream', () => {
  it('gives the events in order and resumes after the last one with Last-Event-ID when the server closes', async () => {
    const { base, seen } = await serve((_req, res, index) => {
      if (index === 0) {
        sse(res, event(1), event(2));
        res.end();
      } else sse(res, event(3));
    });
    const reconnects: number[] = [];
    const stream = new HistoryStream({ base, headers: { 'x-api-key': 'secret' }, fetch }, { taskId: 't-1', onReconnect: (_r, attempt) => reconnects.push(attempt) });
    const ids: number[] = [];
    for await (const e of stream) {
      ids.push(e.id);
      if (ids.length === 3) break;
    }
    expect(ids).toEqual([1, 2, 3]);
    expect(seen.map((s) => [s.url, s.last, s.key])).toEqual([
      ['/tasks/t-1/stream', undefined, 'secret'],
      ['/tasks/t-1/stream', '2', 'secret'],
    ]);
    expect(reconnects).toEqual([1]);
    expect(stream.lastEventId).toBe('3');
  });

  it('throws a 4xx at once with the server message', async () => {
    const { base } = await serve((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'TASK_NOT_FOUND', message: 'no task with task_id "nope"' }));
    });
    const stream = new HistoryStream({ base, headers: {}, fetch }, { taskId: 'nope' });
    const error = await (async () => {
      for await (const _ of stream) return undefined;
      return undefined;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrchestratorError);
    expect(error).toMatchObject({ status: 404, code: 'TASK_NOT_FOUND', message: 'no task with task_id "nope"' });
  });

  it('gives up after maxReconnects failed connections in a row', async () => {
    const { base, seen } = await serve((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end(JSON.stringify({ code: 'OVERLOADED', message: 'overloaded: try again' }));
    });
    const stream = new HistoryStream({ base, headers: {}, fetch }, { maxReconnects: 2 });
    const error = await (async () => {
      for await (const _ of stream) return undefined;
      return undefined;
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, code: 'OVERLOADED' });
    expect(seen).toHaveLength(3);
  });

  it('ends when its signal aborts, closing the connection', async () => {
    const { base, server } = await serve((_req, res) => sse(res, event(1)));
    const abort = new AbortController();
    const ids: number[] = [];
    for await (const e of new HistoryStream({ base, headers: {}, fetch }, { signal: abort.signal })) {
      ids.push(e.id);
      abort.abort();
    }
    expect(ids).toEqual([1]);
    const open = await new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
    expect(open).toBeLessThanOrEqual(1);
  });
});
