import { useCallback, useEffect, useRef, useState } from 'react';

export interface Resource<T> {
  data: T | undefined;
  error: Error | undefined;
  /** True until the first answer (or failure). */
  loading: boolean;
  /** Fetches again now; calls that come while one runs are folded into one more after it. */
  refresh: () => void;
}

/**
 * Data from `load`, fetched when `key` changes, again every `everyMs` (when given) and on refresh().
 * Keeps the last good data while a later fetch fails, so a blip does not blank the page.
 */
export function useResource<T>(key: string, load: (signal: AbortSignal) => Promise<T>, everyMs?: number): Resource<T> {
  const [state, setState] = useState<{ key: string; data?: T; error?: Error }>({ key });
  const loadRef = useRef(load);
  useEffect(() => {
    loadRef.current = load;
  });
  const running = useRef(false);
  const again = useRef(false);
  const controller = useRef<AbortController | null>(null);

  const run = useCallback(() => {
    if (running.current) {
      again.current = true;
      return;
    }
    running.current = true;
    const abort = new AbortController();
    controller.current = abort;
    loadRef
      .current(abort.signal)
      .then(
        (data) => !abort.signal.aborted && setState({ key, data }),
        (error: Error) => !abort.signal.aborted && setState((prev) => ({ key, data: prev.key === key ? prev.data : undefined, error })),
      )
      .finally(() => {
        running.current = false;
        if (again.current && !abort.signal.aborted) {
          again.current = false;
          run();
        }
      });
  }, [key]);

  useEffect(() => {
    run();
    const timer = everyMs === undefined ? undefined : setInterval(run, everyMs);
    return () => {
      clearInterval(timer);
      controller.current?.abort();
      running.current = false;
      again.current = false;
    };
  }, [run, everyMs]);

  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: !current || (state.data === undefined && state.error === undefined),
    refresh: run,
  };
}
