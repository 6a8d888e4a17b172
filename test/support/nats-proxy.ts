import { connect, createServer, type Server, type Socket } from 'node:net';
import { listeningPort, ProxyRule, ProxySockets, type ProxyRuleSpec } from './proxy-rules.js';

/** What the proxy does to a message a client publishes on a subject a rule matches. */
export type NatsProxyAction =
  /** The message never reaches the server; the connection goes on. */
  | 'drop'
  /** The message never reaches the server, nor anything the client sends after it: the connection hangs as a dying process's would. */
  | 'stall'
  /** The message is kept back (what follows it passes) until the rule is released: it arrives late, out of order. */
  | 'hold';

/** Applied to the subject of each message a client publishes (PUB and HPUB). */
export type NatsProxyRule = ProxyRuleSpec<NatsProxyAction>;

/** A rule in force: how many messages it acted on, and (for `hold`) a way to let them through. */
export type NatsProxyRuleHandle = ProxyRule<NatsProxyRule>;

const CRLF = Buffer.from('\r\n');

/**
 * A TCP proxy between NATS clients and a NATS server that reads what clients send, op by op
 * (`PUB`, `HPUB` with their payloads, and every other line), and by rules drops, holds back or
 * stalls on a message published on chosen subjects: a publish that never made it, or a process
 * that dies before its bytes leave. What the server sends passes unchanged.
 */
export class NatsProxy {
  private readonly rules: NatsProxyRuleHandle[] = [];
  private readonly sockets = new ProxySockets();
  private unreachable = false;

  private constructor(
    private readonly server: Server,
    private readonly upstream: { host: string; port: number },
  ) {}

  static async start(upstreamUrl: string): Promise<NatsProxy> {
    const url = new URL(upstreamUrl);
    const server = createServer();
    const proxy = new NatsProxy(server, { host: url.hostname, port: Number(url.port || 4222) });
    server.on('connection', (client) => proxy.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `nats://127.0.0.1:${listeningPort(this.server)}`;
  }

  rule(rule: NatsProxyRule): NatsProxyRuleHandle {
    const handle = new ProxyRule(rule);
    this.rules.push(handle);
    return handle;
  }

  /**
   * Makes the server unreachable the way a network partition does: connections drop, and new ones
   * are taken but never answered (no refusal that would tell the client at once), until `restore`.
   */
  partition(): void {
    this.unreachable = true;
    this.sockets.destroyAll();
  }

  restore(): void {
    this.unreachable = false;
    this.sockets.destroyAll();
  }

  async close(): Promise<void> {
    for (const rule of this.rules) rule.release();
    await this.sockets.close(this.server);
  }

  private accept(client: Socket): void {
    if (this.unreachable) {
      this.sockets.track(client);
      return;
    }
    const server = connect(this.upstream);
    this.sockets.track(client, server);
    server.pipe(client);
    server.on('close', () => client.destroy());
    client.on('close', () => server.destroy());
    let pending = Buffer.alloc(0);
    let stalled = false;
    const send = (frame: Buffer): void => {
      if (!server.destroyed) server.write(frame);
    };

    client.on('data', (chunk: Buffer) => {
      if (stalled) return;
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const frame = nextFrame(pending);
        if (!frame) return;
        pending = pending.subarray(frame.size);
        const bytes = Buffer.from(frame.bytes);
        const rule = frame.subject === null ? undefined : this.rules.find((one) => !one.spent && one.rule.match(frame.subject ?? ''));
        if (!rule || frame.subject === null) {
          send(bytes);
          continue;
        }
        rule.hits += 1;
        if (rule.rule.action === 'hold') rule.hold(() => send(bytes));
        if (rule.rule.action === 'stall') {
          stalled = true;
          return;
        }
      }
    });
  }
}

/** The next whole op a client sent: its bytes, and the subject when it publishes a message. */
function nextFrame(buffer: Buffer): { bytes: Buffer; size: number; subject: string | null } | null {
  const end = buffer.indexOf(CRLF);
  if (end < 0) return null;
  const line = buffer.toString('latin1', 0, end);
  const [op = '', ...args] = line.split(/\s+/).filter((part) => part !== '');
  const kind = op.toUpperCase();
  if (kind !== 'PUB' && kind !== 'HPUB') return { bytes: buffer.subarray(0, end + 2), size: end + 2, subject: null };
  // PUB <subject> [reply] <size>; HPUB <subject> [reply] <header size> <total size>.
  const total = Number(args[args.length - 1]);
  const size = end + 2 + total + 2;
  if (buffer.length < size) return null;
  return { bytes: buffer.subarray(0, size), size, subject: args[0] ?? '' };
}
