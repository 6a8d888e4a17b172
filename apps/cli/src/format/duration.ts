/** A duration for people: `340ms`, `2.3s`, `1m 05s`, `2h 03m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(Math.floor(ms / 10) / 100).toFixed(2)}s`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  const minutes = Math.floor(seconds / 60);
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** The time between two ISO 8601 instants (the second one `now` when null), or null without a start. */
export function between(start: string | null, end: string | null, now = Date.now()): number | null {
  if (start === null) return null;
  return (end === null ? now : Date.parse(end)) - Date.parse(start);
}
