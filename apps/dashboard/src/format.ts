/** 850 ms, 12.3 s, 4 min 05 s, 2 h 07 min. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** How long ago `iso` was, from `now`. */
export function formatAge(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  if (ms < 5000) return 'just now';
  return `${formatDuration(ms).replace(/\.\d/, '')} ago`;
}

/** From `start` to `end`, or to `now` while it runs; '–' before it started. */
export function elapsed(start: string | null, end: string | null, now: number): string {
  if (start === null) return '–';
  return formatDuration((end === null ? now : Date.parse(end)) - Date.parse(start));
}

export function formatTime(iso: string | null): string {
  return iso === null ? '–' : new Date(iso).toLocaleString();
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'undefined';
}
