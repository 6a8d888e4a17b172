import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * A stand-in for the few Consul HTTP API endpoints the orchestrator calls (no Consul server can
 * run where these tests run): service registration, the catalog, health, the leader, and the KV
 * store with blocking queries.
 */
export interface RegisteredService {
  ID: string;
  Name: string;
  Address?: string;
  Port?: number;
  Tags?: string[];
  Check?: { HTTP?: string; Interval?: string; DeregisterCriticalServiceAfter?: string };
}

export class ConsulState {
  readonly services = new Map<string, RegisteredService>();
  readonly kv = new Map<string, string>();
  index = 1;
  /** Answers the next KV reads with these statuses instead, to test recovery from errors. */
  readonly kvFailures: number[] = [];
  /** KV reads received, blocking or not. */
  kvReads = 0;
  private waiters: (() => void)[] = [];

  putKv(key: string, value: string): void {
    this.kv.set(key, value);
    this.changed();
  }

  registerAgent(name: string, tags: string[]): void {
    this.services.set(name, { ID: name, Name: name, Tags: ['agent', ...tags] });
    this.changed();
  }

  changed(): void {
    this.index += 1;
    for (const wake of this.waiters.splice(0)) wake();
  }

  waitForChange(sinceIndex: number, ms: number): Promise<void> {
    if (this.index > sinceIndex) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function duration(text: string | null): number {
  const match = /^(\d+)(ms|s|m)?$/.exec(text ?? '');
  if (!match) return 5_000;
  const n = Number(match[1]);
  return Math.min(5_000, match[2] === 'm' ? n * 60_000 : match[2] === 'ms' ? n : n * 1_000);
}

/** With `token`, every request must carry it in X-Consul-Token, as with Consul's ACLs on and a default policy of deny. */
export async function startConsulStandIn(options: { token?: string } = {}): Promise<{ url: string; state: ConsulState; close(): Promise<void> }> {
  const state = new ConsulState();
  const send = (res: ServerResponse, status: number, payload: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-consul-index': String(state.index) });
    res.end(payload === undefined ? '' : JSON.stringify(payload));
  };
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const path = url.pathname;
      if (options.token !== undefined && req.headers['x-consul-token'] !== options.token) return send(res, 403, 'Permission denied: token not found');
      if (req.method === 'PUT' && path === '/v1/agent/service/register') {
        const service = JSON.parse(await body(req)) as RegisteredService;
        state.services.set(service.ID || service.Name, service);
        state.changed();
        return send(res, 200, undefined);
      }
      if (req.method === 'PUT' && path.startsWith('/v1/agent/service/deregister/')) {
        state.services.delete(decodeURIComponent(path.slice('/v1/agent/service/deregister/'.length)));
        state.changed();
        return send(res, 200, undefined);
      }
      if (req.method === 'GET' && path === '/v1/status/leader') return send(res, 200, '127.0.0.1:8300');
      if (req.method === 'GET' && path === '/v1/catalog/services') {
        const services: Record<string, string[]> = {};
        for (const service of state.services.values()) services[service.Name] = [...new Set([...(services[service.Name] ?? []), ...(service.Tags ?? [])])];
        return send(res, 200, services);
      }
      if (req.method === 'GET' && path.startsWith('/v1/health/service/')) {
        const name = decodeURIComponent(path.slice('/v1/health/service/'.length));
        const entries = [...state.services.values()]
          .filter((service) => service.Name === name)
          .map((service) => ({ Service: { ID: service.ID, Service: service.Name, Tags: service.Tags ?? [] }, Checks: [{ Status: 'passing' }] }));
        return send(res, 200, entries);
      }
      if (path.startsWith('/v1/kv/')) {
        const key = decodeURIComponent(path.slice('/v1/kv/'.length));
        if (req.method === 'PUT') {
          state.putKv(key, await body(req));
          return send(res, 200, true);
        }
        state.kvReads += 1;
        const failure = state.kvFailures.shift();
        if (failure !== undefined) return send(res, failure, { error: 'failure asked for by the test' });
        const since = Number(url.searchParams.get('index') ?? '0');
        if (since > 0) await state.waitForChange(since, duration(url.searchParams.get('wait')));
        const matching = [...state.kv.entries()].filter(([k]) => (url.searchParams.has('recurse') ? k.startsWith(key) : k === key));
        if (matching.length === 0) return send(res, 404, undefined);
        return send(
          res,
          200,
          matching.map(([k, v]) => ({ Key: k, Value: Buffer.from(v).toString('base64'), ModifyIndex: state.index, CreateIndex: 1, Flags: 0, LockIndex: 0 })),
        );
      }
      return send(res, 404, { error: `the stand-in does not implement ${req.method ?? ''} ${path}` });
    })().catch((error: unknown) => send(res, 500, { error: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('the Consul stand-in did not start');
  return {
    url: `http://127.0.0.1:${address.port}`,
    state,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
