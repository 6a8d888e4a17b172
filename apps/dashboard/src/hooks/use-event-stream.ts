import { useEffect, useRef, useState } from 'react';
import { apiKey, onKeyChange } from '../api/api-key';
import type { HistoryEvent } from '../api/types';

/** `live`: connected; `connecting`: (re)connecting; `down`: the stream fails, so callers poll instead. */
export type StreamState = 'connecting' | 'live' | 'down';

/** Failures in a row, with no event in between, after which the stream is given up for a while. */
const MAX_FAILURES = 3;
/** How long a stream that was given up waits before it is tried again. */
const RETRY_DOWN_MS = 15_000;
/** A connection counts as live once an event came, or once it stayed open this long: a server that accepts and drops streams is not live. */
const SETTLED_MS = 2000;

/**
 * A Server-Sent Events stream of history events (`/events/stream`, `/tasks/:id/stream`). A browser's
 * EventSource cannot send headers, so the API key goes as `?api_key=`. The browser reconnects by
 * itself and resumes with Last-Event-ID; after a few failures with no event between them (a 401, a
 * server without streams, one that keeps closing them) the stream is reported `down`, and tried
 * again later.
 */
export function useEventStream(path: string | null, onEvent: (event: HistoryEvent) => void): StreamState {
  const [state, setState] = useState<StreamState>('connecting');
  const [key, setKey] = useState(apiKey);
  const [attempt, setAttempt] = useState(0);
  const handler = useRef(onEvent);
  useEffect(() => {
    handler.current = onEvent;
  });

  useEffect(() => onKeyChange(() => setKey(apiKey())), []);

  useEffect(() => {
    if (path === null) return;
    setState('connecting');
    const url = key ? `${path}${path.includes('?') ? '&' : '?'}api_key=${encodeURIComponent(key)}` : path;
    const source = new EventSource(url);
    let failures = 0;
    let retry: number | undefined;
    let settled: number | undefined;
    source.onopen = () => {
      settled = window.setTimeout(() => setState('live'), SETTLED_MS);
    };
    source.onmessage = (message: MessageEvent<string>) => {
      failures = 0;
      setState('live');
      try {
        handler.current(JSON.parse(message.data) as HistoryEvent);
      } catch {
        // A line that is not an event is not worth breaking the page for.
      }
    };
    source.onerror = () => {
      window.clearTimeout(settled);
      failures += 1;
      if (source.readyState === EventSource.CLOSED || failures >= MAX_FAILURES) {
        source.close();
        setState('down');
        retry = window.setTimeout(() => setAttempt((n) => n + 1), RETRY_DOWN_MS);
      } else {
        setState('connecting');
      }
    };
    return () => {
      window.clearTimeout(retry);
      window.clearTimeout(settled);
      source.close();
    };
  }, [path, key, attempt]);

  return path === null ? 'down' : state;
}
