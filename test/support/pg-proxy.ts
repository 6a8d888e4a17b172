import { createServer, connect, type Server, type Socket } from 'node:net';
import { listeningPort, ProxyRule, ProxySockets, type ProxyRuleSpec } from './proxy-rules.js';

/** What the proxy does to a query a rule matches. */
export type PgProxyAction =
  /** Forwards the query, then drops the client's connection: the server runs it, the client never learns how it went. */
  | 'cut-after'
  /** Drops the connection instead of forwarding the query: the server never sees it. */
  | 'cut-before'
  /** Holds the query, and everything the client sends after it, until the rule is released. */
  | 'hold';

/** Applied to the text of each query a client sends (a simple Query, or the statement of a Parse). */
export type PgProxyRule = ProxyRuleSpec<PgProxyAction>;

/** A rule in force: how many queries it has acted on, and (for `hold`) a way to let them through. */
export type PgProxyRuleHandle = ProxyRule<PgProxyRule>;

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/**
 * A TCP proxy between a client and PostgreSQL that reads the frontend protocol (message
 * boundaries, the text of Query and Parse messages) and, by rules, cuts a connection around a
 * query or holds it: what a connection lost at COMMIT, or a statement delayed, looks like to the
 * client. Everything else passes unchanged, both ways.
 */
export class PgProxy {
  private readonly rules: PgProxyRuleHandle[] = [];
  private readonly sockets = new ProxySockets();

  private constructor(
    private readonly server: Server,
    private readonly upstream: { host: string; port: number },
    private readonly upstreamUrl: string,
  ) {}

  static async start(upstreamUrl: string): Promise<PgProxy> {
    const url = new URL(upstreamUrl);
    const upstream = { host: url.hostname, port: Number(url.port || 5432) };
    const server = createServer();
    const proxy = new PgProxy(server, upstream, upstreamUrl);
    server.on('connection', (client) => proxy.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** The database URL through the proxy. */
  get url(): string {
    const url = new URL(this.upstreamUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  get port(): number {
    return listeningPort(this.server);
  }

  /** Puts a rule in force (rules are tried in the order given; the first that matches acts). */
  rule(rule: PgProxyRule): PgProxyRuleHandle {
    const handle = new ProxyRule(rule);
    this.rules.push(handle);
    return handle;
  }

  /** Takes every rule away (held connections stay held until their rule is released). */
  clearRules(): void {
    this.rules.length = 0;
  }

  async close(): Promise<void> {
    for (const rule of this.rules) rule.release();
    await this.sockets.close(this.server);
  }

  private accept(client: Socket): void {
    const server = connect(this.upstream);
    this.sockets.track(client, server);
    server.pipe(client);
    // After held queries go on, the server's next ReadyForQuery is their answer.
    let answering: PgProxyRuleHandle | null = null;
    const backend = new BackendMessages((type) => {
      if (type !== 'Z' || !answering) return;
      answering.answer();
      answering = null;
    });
    server.on('data', (chunk: Buffer) => backend.push(chunk));
    const close = (): void => {
      client.destroy();
      server.destroy();
    };
    server.on('close', close);
    client.on('close', () => server.end());
    let startup = true;
    let pending = Buffer.alloc(0);
    let stalled = false;
    const queue: Buffer[] = [];

    const forward = (message: Buffer): void => {
      if (!server.destroyed) server.write(message);
    };
    const handle = (message: Buffer): void => {
      const sql = startup ? null : queryText(message);
      const rule = sql === null ? undefined : this.rules.find((one) => !one.spent && one.rule.match(sql));
      if (!rule) return forward(message);
      rule.hits += 1;
      switch (rule.rule.action) {
        case 'cut-after':
          forward(message);
          server.end();
          client.destroy();
          return;
        case 'cut-before':
          server.destroy();
          client.destroy();
          return;
        case 'hold':
          stalled = true;
          queue.push(message);
          rule.hold(() => {
            stalled = false;
            answering = rule;
            for (const next of queue.splice(0)) handle(next);
          });
          return;
      }
    };
    const take = (message: Buffer): void => {
      if (stalled) queue.push(message);
      else handle(message);
    };

    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const size = startup ? (pending.length >= 4 ? pending.readInt32BE(0) : -1) : pending.length >= 5 ? pending.readInt32BE(1) + 1 : -1;
        if (size < 0 || pending.length < size) return;
        const message = pending.subarray(0, size);
        pending = pending.subarray(size);
        if (startup) {
          const code = message.length >= 8 ? message.readInt32BE(4) : 0;
          // A request for encryption is followed by the startup message itself.
          startup = code === SSL_REQUEST || code === GSSENC_REQUEST;
          forward(message);
          continue;
        }
        take(message);
      }
    });
  }
}

/** Splits what the server sends into its messages (a type byte, then a length), telling each type. */
class BackendMessages {
  private pending = Buffer.alloc(0);

  constructor(private readonly onMessage: (type: string) => void) {}

  push(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 5) {
      const size = this.pending.readInt32BE(1) + 1;
      if (this.pending.length < size) return;
      this.onMessage(String.fromCharCode(this.pending[0] ?? 0));
      this.pending = this.pending.subarray(size);
    }
  }
}

/** The SQL of a Query ('Q') or Parse ('P') message, else null. */
function queryText(message: Buffer): string | null {
  const type = String.fromCharCode(message[0] ?? 0);
  if (type === 'Q') return cString(message, 5).text;
  if (type === 'P') return cString(message, cString(message, 5).end + 1).text;
  return null;
}

function cString(buffer: Buffer, start: number): { text: string; end: number } {
  const end = buffer.indexOf(0, start);
  return { text: buffer.toString('utf8', start, end < 0 ? buffer.length : end), end: end < 0 ? buffer.length : end };
}
