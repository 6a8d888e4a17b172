import type { Server, Socket } from 'node:net';

/** A rule of a test proxy: what it acts on (a query's text, a message's subject), what it does, how many times. */
export interface ProxyRuleSpec<A extends string> {
  match: (key: string) => boolean;
  action: A;
  /** How many matching ones it acts on (default: every one). */
  times?: number;
}

/** A rule of a test proxy in force: how many times it has acted, and a way to let what it holds go. */
export class ProxyRule<R extends { times?: number }> {
  hits = 0;
  private readonly held: (() => void)[] = [];
  private released = false;
  private markAnswered: () => void = () => undefined;
  /** Resolves once the server has answered what the rule held (for proxies that can tell). */
  readonly answered = new Promise<void>((resolve) => (this.markAnswered = resolve));

  constructor(readonly rule: R) {}

  /** @internal The server answered what the rule held. */
  answer(): void {
    this.markAnswered();
  }

  /** True once it has acted `times` times. */
  get spent(): boolean {
    return this.rule.times !== undefined && this.hits >= this.rule.times;
  }

  /** Lets everything it holds go on, in the order it came (and what it would hold later pass). */
  release(): void {
    this.released = true;
    for (const go of this.held.splice(0)) go();
  }

  /** @internal Keeps `go` until the rule is released. */
  hold(go: () => void): void {
    if (this.released) go();
    else this.held.push(go);
  }
}

/** The sockets a test proxy opened, closed with it. */
export class ProxySockets {
  private readonly sockets = new Set<Socket>();

  track(...sockets: Socket[]): void {
    for (const socket of sockets) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
    }
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(server: Server): Promise<void> {
    this.destroyAll();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The port a test proxy listens on. */
export function listeningPort(server: Server): number {
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the proxy is not listening');
  return address.port;
}
