import { useState } from 'react';
import { api, taskPath } from '../api/client';
import { FINISHED, type TaskDetail } from '../api/types';
import { ConfirmDialog } from '../components/dialogs';
import { json } from '../format';
import { isItemKey, isRetiredKey } from '../model/workflow-model';

/** Two JSON values alike, whatever the order of their keys. */
function sameJson(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).sort(([x], [y]) => x.localeCompare(y)).map(([k, v]) => [k, canonical(v)]))
        : value;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/**
 * "Retry from here": the step and every step after it run again, the ones before keep their
 * results; the step's input may be edited first (sent only when changed). Offered on a step of a
 * finished task's plan; the server says when it cannot be done, and why.
 */
export function RetryFromStep({ task, stepKey, onDone }: { task: TaskDetail; stepKey: string; onDone: () => void }) {
  const row = task.steps.find((s) => s.step === stepKey);
  const planned = task.plan?.steps.find((s) => s.id === stepKey);
  const original = row?.input ?? {};
  const editable = planned !== undefined && !planned.for_each && (row?.attempts ?? 0) > 0;
  const [open, setOpen] = useState(false);
  const [text, setText] = useState(json(original));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!FINISHED.has(task.status) || isItemKey(stepKey) || isRetiredKey(stepKey) || !planned) return null;

  const retry = async () => {
    const body: { from_step: string; input?: unknown } = { from_step: stepKey };
    if (editable) {
      let input: unknown;
      try {
        input = JSON.parse(text);
      } catch (e) {
        setError(`input: not JSON: ${(e as Error).message}`);
        return;
      }
      if (!sameJson(input, original)) body.input = input;
    }
    setBusy(true);
    setError(null);
    try {
      await api(`${taskPath(task.task_id)}/retry`, { method: 'POST', body });
      setOpen(false);
      onDone();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button
        type="button"
        onClick={() => {
          setText(json(original));
          setError(null);
          setOpen(true);
        }}
      >
        Retry from here
      </button>
      {open && (
        <ConfirmDialog title={`Retry from step ${stepKey}?`} confirmLabel="Retry from here" busy={busy} error={error} onConfirm={() => void retry()} onCancel={() => setOpen(false)}>
          <p>
            <strong>{stepKey}</strong> and every step after it run again; the steps before it keep their results and are not sent again. The
            requester gets a new final response.
          </p>
          {editable ? (
            <label>
              input of {stepKey} (edit it to send another; recorded in the history)
              <textarea rows={10} value={text} onChange={(e) => setText(e.target.value)} aria-label="step input" spellCheck={false} />
            </label>
          ) : (
            <p className="muted">{planned.for_each ? 'The inputs of its items are built again from its list.' : 'It was never sent: its input is built again from its plan.'}</p>
          )}
        </ConfirmDialog>
      )}
    </>
  );
}
