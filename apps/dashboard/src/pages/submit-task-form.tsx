import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { api } from '../api/client';
import { PRIORITIES, type WorkflowDefinition } from '../api/types';
import { json } from '../format';

/** A payload to start from: each required field of the workflow's payload with a value of its type. */
function samplePayload(definition: WorkflowDefinition | undefined): string {
  if (!definition) return '{}';
  const sample: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(definition.payload)) {
    const field = spec as { type?: string; required?: boolean };
    if (!field.required) continue;
    sample[name] = field.type === 'array' ? [] : field.type === 'object' ? {} : field.type === 'integer' || field.type === 'number' ? 0 : field.type === 'boolean' ? false : '';
  }
  return json(sample);
}

/** POST /tasks from the page: the server validates, and its message (naming the field) is shown as it is. */
export function SubmitTaskForm({ workflows, onCancel }: { workflows: readonly WorkflowDefinition[]; onCancel: () => void }) {
  const navigate = useNavigate();
  const [taskType, setTaskType] = useState(workflows[0]?.task_type ?? '');
  const [payload, setPayload] = useState(() => samplePayload(workflows[0]));
  const [priority, setPriority] = useState('NORMAL');
  const [taskId, setTaskId] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const choose = (type: string) => {
    setTaskType(type);
    setPayload(samplePayload(workflows.find((w) => w.task_type === type)));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    let body: unknown;
    try {
      body = JSON.parse(payload);
    } catch (e) {
      setError(`payload: is not valid JSON (${(e as Error).message})`);
      return;
    }
    const id = taskId.trim() || `ui-${new Date().toISOString().replace(/[-:.TZ]/g, '')}-${Math.random().toString(36).slice(2, 6)}`;
    setBusy(true);
    try {
      const reply = await api<{ task_id: string }>('/tasks', { method: 'POST', body: { task_id: id, task_type: taskType.trim(), payload: body, priority } });
      void navigate(`/tasks/${encodeURIComponent(reply.task_id)}`);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card submit-form" onSubmit={(e) => void submit(e)} aria-label="new task">
      <div className="form-row">
        <label>
          task type
          <input list="task-types" value={taskType} onChange={(e) => choose(e.target.value)} required aria-label="new task type" />
          <datalist id="task-types">
            {workflows.map((w) => (
              <option key={`${w.task_type}-${w.version}`} value={w.task_type} />
            ))}
          </datalist>
        </label>
        <label>
          priority
          <select value={priority} onChange={(e) => setPriority(e.target.value)}>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {p.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <label className="grow">
          task_id
          <input value={taskId} onChange={(e) => setTaskId(e.target.value)} placeholder="left empty: one is made up" />
        </label>
      </div>
      <label>
        payload (JSON)
        <textarea rows={5} value={payload} onChange={(e) => setPayload(e.target.value)} spellCheck={false} aria-label="payload" />
      </label>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      <div className="modal-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy || taskType.trim() === ''}>
          {busy ? 'Submitting…' : 'Submit'}
        </button>
      </div>
    </form>
  );
}
