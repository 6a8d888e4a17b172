import type { TaskProgress } from '../api/types';

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge status-${status.toLowerCase()}`} data-status={status}>
      {status.toLowerCase()}
    </span>
  );
}

export function ProgressBar({ done, total, label }: { done: number; total: number; label?: string }) {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  return (
    <span className="progress" title={label ?? `${done} of ${total}`}>
      <span className="progress-track">
        <span className="progress-fill" style={{ width: `${fraction * 100}%` }} />
      </span>
      <span className="progress-text">{label ?? `${done}/${total}`}</span>
    </span>
  );
}

/** What a task's steps came to, in words: `3/5 steps · 1 failed · 1 cancelled`. */
export function progressLabel(progress: TaskProgress, unit = ''): string {
  const parts = [`${progress.done}/${progress.total}${unit}`];
  if (progress.failed > 0) parts.push(`${progress.failed} failed`);
  if (progress.cancelled > 0) parts.push(`${progress.cancelled} cancelled`);
  if (progress.skipped > 0) parts.push(`${progress.skipped} skipped`);
  return parts.join(' · ');
}

/** A task's steps as one bar: completed in green, then skipped, failed and cancelled in their colours. */
export function StepsProgress({ progress, unit }: { progress: TaskProgress; unit?: string }) {
  const label = progressLabel(progress, unit);
  const share = (n: number) => `${progress.total > 0 ? (Math.min(n, progress.total) / progress.total) * 100 : 0}%`;
  return (
    <span
      className="progress"
      title={label}
      data-role="steps-progress"
      data-done={progress.done}
      data-failed={progress.failed}
      data-cancelled={progress.cancelled}
      data-skipped={progress.skipped}
      data-total={progress.total}
    >
      <span className="progress-track segmented">
        {(['done', 'skipped', 'failed', 'cancelled'] as const).map((part) =>
          progress[part] > 0 ? <span key={part} className={`progress-fill part-${part}`} style={{ width: share(progress[part]) }} /> : null,
        )}
      </span>
      <span className={`progress-text${progress.failed > 0 ? ' text-failed' : progress.cancelled > 0 ? ' text-cancelled' : ''}`}>{label}</span>
    </span>
  );
}
