import { Injectable, Logger } from '@nestjs/common';

/** At most one report per sub-task and sender is applied in this time; the latest of those that came meanwhile follows. */
export const PROGRESS_WINDOW_MS = 1_000;
/** Sub-tasks followed at once; reports for more are dropped until some go quiet. */
const MAX_KEYS = 10_000;

interface Window<T> {
  latest: T | null;
}

/**
 * Progress may come in floods: each report would be a transition and a row of history. The first
 * report of a sub-task (from one sender) is applied at once; those that come within the next
 * second are held, and only the latest of them is applied when the second ends.
 */
@Injectable()
export class ProgressCoalescer {
  private readonly logger = new Logger(ProgressCoalescer.name);
  private readonly windows = new Map<string, Window<unknown>>();

  /** True while reports under `key` are being coalesced: the next one is taken without asking again whether it may be. */
  isOpen(key: string): boolean {
    return this.windows.has(key);
  }

  offer<T>(key: string, report: T, apply: (report: T) => Promise<unknown>): void {
    const open = this.windows.get(key) as Window<T> | undefined;
    if (open) {
      open.latest = report;
      return;
    }
    if (this.windows.size >= MAX_KEYS) return;
    this.start(key, report, apply);
  }

  private start<T>(key: string, report: T, apply: (report: T) => Promise<unknown>): void {
    const window: Window<T> = { latest: null };
    this.windows.set(key, window);
    setTimeout(() => {
      this.windows.delete(key);
      if (window.latest !== null) this.start(key, window.latest, apply);
    }, PROGRESS_WINDOW_MS).unref();
    apply(report).catch((error: unknown) => this.logger.warn(`applying progress failed: ${(error as Error).message}`));
  }
}
