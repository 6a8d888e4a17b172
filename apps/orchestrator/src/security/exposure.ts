import type { AppConfig } from '../config/app-config.js';

const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|::1|localhost)$/;

/**
 * What to say, loudly, when the HTTP API would serve anyone who reaches it: no API_KEY, and an
 * address beyond this machine's loopback. Null when it is keyed or only local.
 */
export function exposureWarning(config: Pick<AppConfig, 'API_KEY' | 'HOST' | 'PORT'>): string | null {
  if (config.API_KEY || LOOPBACK.test(config.HOST)) return null;
  return (
    `SECURITY: API_KEY is not set and the HTTP API listens on ${config.HOST}:${config.PORT}, beyond this machine's loopback: ` +
    'anyone who reaches it can submit, read, cancel and rerun every task. Set API_KEY (16 characters or more), or HOST=127.0.0.1 to listen on this machine alone.'
  );
}
