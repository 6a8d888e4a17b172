import { readFileSync } from 'node:fs';
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions } from '@nats-io/transport-node';
import type { AppConfig } from '../config/app-config.js';

/** Servers, credentials and TLS for every NATS connection of the orchestrator, from the configuration. */
export function natsConnectionOptions(config: AppConfig, name: string): ConnectionOptions {
  const options: ConnectionOptions = {
    servers: config.NATS_URL.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 10_000,
    inboxPrefix: config.NATS_INBOX_PREFIX,
  };
  if (config.NATS_USER !== undefined) {
    options.user = config.NATS_USER;
    options.pass = config.NATS_PASSWORD ?? '';
  }
  if (config.NATS_TOKEN !== undefined) options.token = config.NATS_TOKEN;
  if (config.NATS_NKEY_SEED !== undefined) options.authenticator = nkeyAuthenticator(new TextEncoder().encode(config.NATS_NKEY_SEED));
  if (config.NATS_CREDS_FILE !== undefined) options.authenticator = credsAuthenticator(readFileSync(config.NATS_CREDS_FILE));
  if (config.NATS_TLS_CA_FILE !== undefined) options.tls = { caFile: config.NATS_TLS_CA_FILE };
  return options;
}
