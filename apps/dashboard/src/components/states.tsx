import type { ReactNode } from 'react';
import { ApiError } from '../api/client';

export function Loading({ what }: { what: string }) {
  return (
    <div className="state state-loading" role="status">
      <span className="spinner" aria-hidden /> Loading {what}…
    </div>
  );
}

/** A failure with what to do about it. */
export function ErrorState({ error, what, retry }: { error: Error; what: string; retry?: () => void }) {
  const hint =
    error instanceof ApiError && error.status === 0
      ? 'Check that the orchestrator is running and reachable from this browser, then try again.'
      : error instanceof ApiError && error.status >= 500
        ? 'The orchestrator failed to answer: its log has the details (search for the correlation id).'
        : null;
  return (
    <div className="state state-error" role="alert">
      <strong>Could not load {what}.</strong> {error.message}
      {hint && <div className="hint">{hint}</div>}
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children && <div className="hint">{children}</div>}
    </div>
  );
}

/** The latest error of an action, as the server said it. */
export function Banner({ error, onClose }: { error: string | null; onClose: () => void }) {
  if (error === null) return null;
  return (
    <div className="banner" role="alert">
      <span>{error}</span>
      <button type="button" className="link" onClick={onClose} aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}
