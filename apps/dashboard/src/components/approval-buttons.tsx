import { useState } from 'react';
import { api, taskPath } from '../api/client';

/**
 * Approve and Reject for a step waiting for a signal: the signal with `{ approved, comment? }`.
 * What the server refuses (a payload the step does not take, a workflow that has ended) is shown
 * as it said it.
 */
export function ApprovalButtons({ taskId, signal, onDone }: { taskId: string; signal: string; onDone: () => void }) {
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState<boolean | null>(null);

  const send = async (approved: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const payload = { approved, ...(comment.trim() === '' ? {} : { comment: comment.trim() }) };
      await api(`${taskPath(taskId)}/signals/${encodeURIComponent(signal)}`, { method: 'POST', body: payload });
      setSent(approved);
      onDone();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  if (sent !== null) {
    return (
      <p className="muted" data-role="approval-sent">
        {sent ? 'Approved' : 'Rejected'}: the workflow goes on.
      </p>
    );
  }
  return (
    <div className="approval" data-role="approval" data-signal={signal}>
      <label>
        comment (optional)
        <input type="text" value={comment} maxLength={2000} onChange={(e) => setComment(e.target.value)} data-role="approval-comment" />
      </label>
      <div className="actions">
        <button type="button" className="primary" disabled={busy} onClick={() => void send(true)} data-role="approve">
          Approve
        </button>
        <button type="button" className="danger" disabled={busy} onClick={() => void send(false)} data-role="reject">
          Reject
        </button>
      </div>
      {error && (
        <div className="error-box" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}
