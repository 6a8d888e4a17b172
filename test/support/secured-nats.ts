import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { freePort, waitFor } from './orchestrator-process.js';

const ROOT = new URL('../..', import.meta.url).pathname;
/** The permissions file operators are told to use. */
export const PERMISSIONS_FILE = join(ROOT, 'deploy', 'nats', 'permissions.conf');
/** The users of deploy/nats/permissions.conf. */
export const DEMO_AGENTS = ['drafting_agent', 'enhancement_agent', 'examination_agent', 'llm_agent', 'communication_agent'] as const;
const USERS = ['orchestrator', 'gateway', ...DEMO_AGENTS];

/**
 * A nats-server of its own running deploy/nats/permissions.conf, with a password per user from
 * the environment as the file reads them; stopped with `stop()`.
 */
export class SecuredNats {
  /** The passwords the file reads from the environment (`<USER>_NATS_PASSWORD`), for the server and the services. */
  readonly passwords: Record<string, string> = Object.fromEntries(USERS.map((user) => [`${user.toUpperCase()}_NATS_PASSWORD`, `pw-${user}-0123456789`]));

  private constructor(
    readonly url: string,
    private readonly server: ChildProcess,
  ) {}

  static async start(): Promise<SecuredNats> {
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    const passwords = Object.fromEntries(USERS.map((user) => [`${user.toUpperCase()}_NATS_PASSWORD`, `pw-${user}-0123456789`]));
    const store = mkdtempSync(join(tmpdir(), 'e2e-nats-js-'));
    const server = spawn('nats-server', ['-c', PERMISSIONS_FILE, '-js', '-sd', store, '-a', '127.0.0.1', '-p', String(port)], {
      stdio: 'ignore',
      env: { ...process.env, ...passwords },
    });
    const nats = new SecuredNats(url, server);
    await waitFor('the NATS server with permissions', async () => {
      await (await nats.login('gateway')).close();
      return true;
    });
    return nats;
  }

  password(user: string): string {
    return this.passwords[`${user.toUpperCase()}_NATS_PASSWORD`] ?? '';
  }

  /** A connection as `user`, with the inboxes the file lets it read (`_INBOX_<user>`), as any client in any language would make it. */
  login(user: string, options: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
    return connect({ servers: this.url, user, pass: this.password(user), name: `e2e-${user}`, inboxPrefix: `_INBOX_${user}`, ...options });
  }

  stop(): void {
    this.server.kill();
  }
}

/** What the server refused a connection, as the client was told. */
export function violations(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'error') seen.push(String(status.error));
    }
  })();
  return seen;
}
