import type { ConsulClient, KvEntry } from './consul-client.js';

export interface KvWatchOptions {
  /** How long Consul may hold each blocking query. */
  wait?: string;
  /** Pause after the first error in a row, doubled at each next one up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  onError?: (error: Error) => void;
}

/**
 * Follows the entries under a KV prefix with blocking queries: the first read, then each change,
 * are given to `onChange`. Errors are retried with exponential backoff, without end; the function
 * returned stops the watch and aborts the query in flight.
 * https://developer.hashicorp.com/consul/api-docs/features/blocking
 */
export function watchKv(client: ConsulClient, prefix: string, onChange: (entries: KvEntry[]) => void, options: KvWatchOptions = {}): () => void {
  const wait = options.wait ?? '5m';
  const backoffMs = options.backoffMs ?? 200;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const stop = new AbortController();
  let index = 0;
  let failures = 0;

  const loop = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      try {
        const answer = await client.kvGet(prefix, { recurse: true, index, wait, signal: stop.signal });
        failures = 0;
        if (stop.signal.aborted) return;
        // An index that went back (a restored snapshot, another server) starts the watch over.
        const previous = answer.index < index ? 0 : index;
        index = Math.max(answer.index, 1);
        if (answer.index !== previous) onChange(answer.value);
      } catch (error) {
        if (stop.signal.aborted) return;
        options.onError?.(error as Error);
        const pause = Math.min(maxBackoffMs, backoffMs * 2 ** failures);
        failures += 1;
        await sleep(pause, stop.signal);
      }
    }
  };
  void loop();
  return () => stop.abort();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
