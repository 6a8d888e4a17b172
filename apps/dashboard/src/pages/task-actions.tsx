import { useState } from 'react';
import { useNavigate } from 'react-router';
import { api, taskPath } from '../api/client';
import type { TaskDetail } from '../api/types';
import { ConfirmDialog } from '../components/dialogs';

type Action = 'cancel' | 'retry' | 'rerun';

const ACTIONS: Record<Action, { label: string; title: string; explain: string }> = {
  cancel: { label: 'Cancel', title: 'Cancel this task?', explain: 'Steps still running are told to stop, steps not started never start, and the requester gets a CANCELLED response.' },
  retry: { label: 'Retry', title: 'Retry this task?', explain: 'It runs again from its unfinished steps: the steps that completed keep their results and are not sent again.' },
  rerun: { label: 'Re-run', title: 'Re-run this task?', explain: 'Its request runs again from the start under a new task_id; this task stays as it is.' },
};

/** Which actions a task in this status allows, as the server decides them. */
function allowed(status: string): Action[] {
  if (status === 'PENDING' || status === 'QUEUED' || status === 'RUNNING') return ['cancel'];
  if (status === 'FAILED' || status === 'CANCELLED') return ['retry', 'rerun'];
  return ['rerun'];
}

/** Cancel, retry and re-run, each asked for first; the server's refusal is shown as it said it. */
export function TaskActions({ task, onDone }: { task: TaskDetail; onDone: () => void }) {
  const navigate = useNavigate();
  const [asking, setAsking] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (action: Action) => {
    setBusy(true);
    setError(null);
    try {
      const reply = await api<{ task_id: string }>(`${taskPath(task.task_id)}/${action}`, { method: 'POST', body: {} });
      setAsking(null);
      onDone();
      if (action === 'rerun') void navigate(`/tasks/${encodeURIComponent(reply.task_id)}`);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="actions">
      {allowed(task.status).map((action) => (
        <button
          type="button"
          key={action}
          className={action === 'cancel' ? 'danger' : ''}
          onClick={() => {
            setError(null);
            setAsking(action);
          }}
        >
          {ACTIONS[action].label}
        </button>
      ))}
      {asking && (
        <ConfirmDialog
          title={ACTIONS[asking].title}
          confirmLabel={ACTIONS[asking].label}
          busy={busy}
          error={error}
          onConfirm={() => void run(asking)}
          onCancel={() => setAsking(null)}
        >
          <p>
            <code>{task.task_id}</code> ({task.task_type}, {task.status.toLowerCase()})
          </p>
          <p>{ACTIONS[asking].explain}</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
