import { apiKey, askForKey } from './api-key';

/** An answer of the API that was not a success, with the server's own message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function headers(body: unknown): Record<string, string> {
  const key = apiKey();
  return {
    Accept: 'application/json',
    ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    ...(key ? { 'X-API-Key': key } : {}),
  };
}

/** The message of an error body (`{ code, message }`), or the status line when the body says nothing. */
async function failure(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    const message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
    return new ApiError(res.status, typeof message === 'string' && message !== '' ? message : `${res.status} ${res.statusText}`, typeof body.code === 'string' ? body.code : null);
  } catch {
    return new ApiError(res.status, text.trim() || `${res.status} ${res.statusText}`, null);
  }
}

/**
 * Calls the orchestrator's API on the page's own origin. A 401 asks for the API key and tries
 * again with it; any other failure throws an ApiError carrying the server's message.
 */
export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  for (;;) {
    const sent = apiKey();
    let res: Response;
    try {
      res = await fetch(path, {
        method: init.method ?? 'GET',
        headers: headers(init.body),
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: init.signal,
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ApiError(0, `the orchestrator cannot be reached (${(error as Error).message}): is it running?`, 'UNREACHABLE');
    }
    if (res.status === 401) {
      await askForKey(sent);
      continue;
    }
    if (!res.ok) throw await failure(res);
    return (await res.json()) as T;
  }
}

/** A path with its query, leaving out empty values. */
export function withQuery(path: string, query: Record<string, string | number | boolean | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

export const taskPath = (taskId: string): string => `/tasks/${encodeURIComponent(taskId)}`;
