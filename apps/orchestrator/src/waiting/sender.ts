import { createHash } from 'node:crypto';

/**
 * The name of the API key HTTP requests come with, for the history of what they did: the first
 * characters of the key's SHA-256 (never the key), or null when the orchestrator needs no key.
 * A request reaches a route only with the key (ApiKeyGuard).
 */
export function apiKeyName(configured: string | undefined): string | null {
  if (!configured) return null;
  return `api-key:${createHash('sha256').update(configured).digest('hex').slice(0, 8)}`;
}
