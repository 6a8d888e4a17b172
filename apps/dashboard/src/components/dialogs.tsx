import { useState, useSyncExternalStore, type FormEvent, type ReactNode } from 'react';
import { giveApiKey, keyRequest, onKeyChange } from '../api/api-key';

function Modal({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-label={title}>
        <h2>{title}</h2>
        {children}
      </div>
    </div>
  );
}

/** Shown when the API answered 401: asks for the API key once, for every request waiting on it. */
export function ApiKeyDialog() {
  const request = useSyncExternalStore(onKeyChange, keyRequest);
  const [key, setKey] = useState('');
  if (request === null) return null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (key.trim() === '') return;
    giveApiKey(key.trim());
    setKey('');
  };
  return (
    <Modal title="API key required">
      <form onSubmit={submit}>
        <p>
          This orchestrator runs with <code>API_KEY</code> set: enter that key to see and steer its work. It is kept for this browser tab
          only (session storage).
        </p>
        {request.refused && <p className="error-text">The key given was refused: check it and enter it again.</p>}
        <input type="password" autoFocus placeholder="API key" aria-label="API key" value={key} onChange={(e) => setKey(e.target.value)} />
        <div className="modal-actions">
          <button type="submit" className="primary" disabled={key.trim() === ''}>
            Use this key
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Asks before an action that changes work; shows the server's error when it is refused. */
export function ConfirmDialog(props: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  busy: boolean;
  error: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Modal title={props.title}>
      <div>{props.children}</div>
      {props.error && (
        <p className="error-text" role="alert">
          {props.error}
        </p>
      )}
      <div className="modal-actions">
        <button type="button" onClick={props.onCancel} disabled={props.busy}>
          Back
        </button>
        <button type="button" className="primary" onClick={props.onConfirm} disabled={props.busy}>
          {props.busy ? 'Working…' : props.confirmLabel}
        </button>
      </div>
    </Modal>
  );
}
