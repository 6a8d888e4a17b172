// The API key (when the orchestrator runs with API_KEY): asked once, when a request answers 401,
// and kept in sessionStorage, so it lasts as long as the tab and is never written to disk by us.

const STORAGE_KEY = 'orchestrator.api_key';

export interface KeyRequest {
  /** True when a key was given and the server refused it. */
  refused: boolean;
}

type Listener = () => void;

let request: KeyRequest | null = null;
let answered: Promise<void> | null = null;
let answer: (() => void) | null = null;
const listeners = new Set<Listener>();

function notify(): void {
  for (const listener of listeners) listener();
}

export function apiKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function forgetApiKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
  notify();
}

/** The pending question, for the dialog; null when nothing waits for a key. */
export function keyRequest(): KeyRequest | null {
  return request;
}

export function onKeyChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Resolves once the person has entered a key. Every request that meets a 401 meanwhile waits on the
 * same question, so the dialog appears once however many requests were refused.
 */
export function askForKey(refusedKey: string | null): Promise<void> {
  if (answered) return answered;
  if (refusedKey !== null && refusedKey === apiKey()) sessionStorage.removeItem(STORAGE_KEY);
  request = { refused: refusedKey !== null };
  answered = new Promise<void>((resolve) => (answer = resolve));
  notify();
  return answered;
}

export function giveApiKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
  const resolve = answer;
  request = null;
  answered = null;
  answer = null;
  notify();
  resolve?.();
}
