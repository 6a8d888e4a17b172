import { OrchestratorClient } from '@orchestrator/client';
import { UsageError } from './cli-error.js';

export const DEFAULT_URL = 'http://127.0.0.1:3000';

export interface Settings {
  /** The orchestrator's HTTP API. */
  url: string;
  /** Sent as X-API-Key when the orchestrator has API_KEY set. */
  apiKey: string | undefined;
}

/** `--url`, else ORCHESTRATOR_URL, else the default; API_KEY from the environment only (not in the process list). */
export function readSettings(env: Record<string, string | undefined>, urlOption: string | undefined): Settings {
  const url = urlOption ?? (env['ORCHESTRATOR_URL'] || DEFAULT_URL);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${urlOption !== undefined ? '--url' : 'ORCHESTRATOR_URL'}: not a URL: "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`${urlOption !== undefined ? '--url' : 'ORCHESTRATOR_URL'}: must be an http:// or https:// URL, not "${url}"`);
  }
  return { url, apiKey: env['API_KEY'] || undefined };
}

/** A client of the HTTP API alone: the command line needs no NATS connection. */
export function connectClient(settings: Settings): Promise<OrchestratorClient> {
  return OrchestratorClient.connect({ httpUrl: settings.url, via: 'http', ...(settings.apiKey ? { apiKey: settings.apiKey } : {}) });
}
