import type { ControlledChild } from './child-process.js';
import { attachSpans, latencyOf, monotonicNs, type Latency, type StepSpan } from './stats.js';

/**
 * One side of the comparison: a way to run the five-step chain, its steps run by a process of its
 * own (`worker`) that records when each step started and answered, and is started only for the
 * side's turn (so as not to load the servers while other sides run).
 */
export abstract class ChainSide {
  constructor(
    readonly label: string,
    /** Names the side in the printed rounds and in the ratio columns. */
    readonly short: string,
    readonly worker: ControlledChild,
    /** Fewer workflows one at a time, for a side whose every step waits out a polling interval. */
    readonly latencyRuns?: number,
  ) {}

  async activate(): Promise<void> {
    await this.worker.call('start');
  }

  async deactivate(): Promise<void> {
    await this.worker.call('stop');
  }

  /** Submits these workflows at once and resolves once every one is done. */
  abstract runMany(ids: readonly string[]): Promise<void>;

  /** Submits one workflow and resolves once it is done. */
  abstract runOne(id: string): Promise<void>;

  async close(): Promise<void> {
    await this.worker.close();
  }
}

/** Chains that a worker process says are done (its event `done` names them). */
export class Completions {
  private readonly waiting = new Map<string, () => void>();

  constructor(worker: ControlledChild) {
    worker.onEvent('done', (ids) => {
      for (const id of ids as string[]) this.waiting.get(id)?.();
    });
  }

  of(id: string): Promise<void> {
    return new Promise((resolve) =>
      this.waiting.set(id, () => {
        this.waiting.delete(id);
        resolve();
      }),
    );
  }
}

/** A burst of `count` workflows at once: workflows per second. */
export async function measureBurst(side: ChainSide, count: number, run: string): Promise<number> {
  const ids = Array.from({ length: count }, (_, i) => `${run}-${i}`);
  const started = performance.now();
  await side.runMany(ids);
  const seconds = (performance.now() - started) / 1000;
  await side.worker.call('spans');
  return count / seconds;
}

/** `runs` workflows one after another, each timed by the client and by its steps' spans. */
export async function measureLatency(side: ChainSide, runs: number, run: string): Promise<Latency> {
  await side.worker.call('spans');
  const windows: { submitted: number; done: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const submitted = monotonicNs();
    await side.runOne(`${run}-${i}`);
    windows.push({ submitted, done: monotonicNs() });
  }
  const spans = await side.worker.call<StepSpan[]>('spans');
  return latencyOf(attachSpans(windows, spans));
}
