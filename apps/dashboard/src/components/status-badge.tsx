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
