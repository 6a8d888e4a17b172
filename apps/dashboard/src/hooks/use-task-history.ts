import { useCallback, useEffect, useRef, useState } from 'react';
import { api, taskPath, withQuery } from '../api/client';
import type { HistoryEvent } from '../api/types';
import { useEventStream, type StreamState } from './use-event-stream';

/** Polling interval of the history when its stream is down. */
const POLL_MS = 2000;

/**
 * A workflow's history, live: its stream (the whole history, then each event as it is committed),
 * or pages of `GET /tasks/:id/events` every two seconds when the stream cannot be had.
 * `onEvent` runs for every new event, e.g. to fetch the workflow's state again.
 */
export function useTaskHistory(taskId: string, onEvent: () => void): { events: HistoryEvent[]; stream: StreamState } {
  const [events, setEvents] = useState<HistoryEvent[]>([]);
  const seen = useRef(new Set<number>());
  const last = useRef(0);
  const notify = useRef(onEvent);
  useEffect(() => {
    notify.current = onEvent;
  });

  useEffect(() => {
    seen.current = new Set();
    last.current = 0;
    setEvents([]);
  }, [taskId]);

  const add = useCallback((batch: HistoryEvent[]) => {
    const fresh = batch.filter((event) => !seen.current.has(event.id));
    if (fresh.length === 0) return;
    for (const event of fresh) {
      seen.current.add(event.id);
      last.current = Math.max(last.current, event.id);
    }
    setEvents((prev) => [...prev, ...fresh].sort((a, b) => a.id - b.id));
    notify.current();
  }, []);

  const stream = useEventStream(`${taskPath(taskId)}/stream`, (event) => add([event]));

  useEffect(() => {
    if (stream !== 'down') return;
    let stopped = false;
    const poll = async () => {
      try {
        for (;;) {
          const page = await api<{ items: HistoryEvent[]; next_after: number | null }>(withQuery(`${taskPath(taskId)}/events`, { after: last.current, limit: 1000 }));
          if (stopped) return;
          add(page.items);
          if (page.next_after === null) return;
        }
      } catch {
        // The workflow's own request shows the error; the history tries again at the next tick.
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [stream, taskId, add]);

  return { events, stream };
}
