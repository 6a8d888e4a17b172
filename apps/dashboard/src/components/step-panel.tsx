import type { HistoryEvent, StepRow, TaskDetail } from '../api/types';
import { elapsed, formatTime, json } from '../format';
import { useNow } from '../hooks/use-now';
import { eventsOfStep, isItemKey, planKey } from '../model/workflow-model';
import { ApprovalButtons } from './approval-buttons';
import { StatusBadge } from './status-badge';

function Json({ label, value }: { label: string; value: unknown }) {
  return (
    <details open className="json">
      <summary>{label}</summary>
      <pre>{json(value)}</pre>
    </details>
  );
}

/** A compact line for one history event: what happened, with the data that matters. */
export function describeEvent(event: HistoryEvent): string {
  const d = event.data ?? {};
  const parts: string[] = [event.kind.replace(/_/g, ' ')];
  if (typeof d['agent'] === 'string') parts.push(`${event.kind === 'dispatched' ? 'to' : 'by'} ${d['agent']}`);
  if (typeof d['attempt'] === 'number') parts.push(`attempt ${d['attempt']}`);
  if (typeof d['status'] === 'string') parts.push(d['status'].toLowerCase());
  if (typeof d['fraction'] === 'number') parts.push(`${Math.round(d['fraction'] * 100)}%`);
  if (typeof d['message'] === 'string') parts.push(d['message']);
  if (typeof d['backoff_ms'] === 'number') parts.push(`in ${d['backoff_ms']} ms`);
  if (typeof d['items'] === 'number') parts.push(`${d['items']} items`);
  if (typeof d['signal'] === 'string') parts.push(`signal ${d['signal']}`);
  if (typeof d['event'] === 'string') parts.push(`event ${d['event']}`);
  if (typeof d['until'] === 'string') parts.push(`until ${new Date(d['until']).toLocaleString()}`);
  if (typeof d['via'] === 'string') parts.push(`via ${d['via']}${typeof d['by'] === 'string' ? ` by ${d['by']}` : ''}`);
  const text = parts.join(' ');
  return typeof d['error'] === 'string' ? `${text}: ${d['error']}` : text;
}

export function EventList({ events }: { events: readonly HistoryEvent[] }) {
  if (events.length === 0) return <p className="muted">Nothing recorded yet.</p>;
  return (
    <ol className="events">
      {events.map((event) => (
        <li key={event.id} data-kind={event.kind}>
          <time dateTime={event.at}>{new Date(event.at).toLocaleTimeString()}</time>
          {event.step_id && <span className="event-step">{event.step_id}</span>}
          <span>{describeEvent(event)}</span>
        </li>
      ))}
    </ol>
  );
}

/** The side panel: one step's (or item's) state, input, result, error and history. */
export function StepPanel({
  detail,
  stepKey,
  events,
  onClose,
  onSelect,
  onChange,
}: {
  detail: TaskDetail;
  stepKey: string;
  events: readonly HistoryEvent[];
  onClose: () => void;
  onSelect: (key: string) => void;
  /** Something was done to the task from the panel (an approval): it is read again. */
  onChange?: () => void;
}) {
  const now = useNow();
  const row: StepRow | undefined = detail.steps.find((s) => s.step === stepKey);
  const planned = detail.plan?.steps.find((s) => s.id === planKey(stepKey));
  const items = isItemKey(stepKey) ? [] : detail.steps.filter((s) => isItemKey(s.step) && planKey(s.step) === stepKey && !s.step.includes('@'));
  return (
    <aside className="panel" aria-label={`Step ${stepKey}`} data-panel-step={stepKey}>
      <div className="panel-head">
        <h2>{stepKey}</h2>
        <button type="button" className="link" onClick={onClose} aria-label="Close">
          ×
        </button>
      </div>
      {isItemKey(stepKey) && (
        <button type="button" className="link" onClick={() => onSelect(planKey(stepKey))}>
          ← step {planKey(stepKey)}
        </button>
      )}
      <dl className="facts">
        <dt>status</dt>
        <dd>{row ? <StatusBadge status={row.status} /> : 'not started'}</dd>
        <dt>agent</dt>
        <dd>{row?.agent ?? planned?.agent ?? (planned?.capability ? `any offering ${planned.capability}` : '–')}</dd>
        <dt>task type</dt>
        <dd>{row?.task_type ?? planned?.task_type ?? '–'}</dd>
        <dt>attempts</dt>
        <dd>
          {row ? `${row.attempts} of ${row.max_attempts}` : '–'}
          {row?.next_attempt_at && row.status === 'PENDING' ? ` · next at ${formatTime(row.next_attempt_at)}` : ''}
        </dd>
        <dt>started</dt>
        <dd>{formatTime(row?.started_at ?? null)}</dd>
        <dt>finished</dt>
        <dd>{formatTime(row?.completed_at ?? null)}</dd>
        <dt>duration</dt>
        <dd>{elapsed(row?.started_at ?? null, row?.completed_at ?? null, now)}</dd>
        {row?.progress && (
          <>
            <dt>progress</dt>
            <dd>
              {Math.round(row.progress.fraction * 100)}% {row.progress.message ?? ''}
            </dd>
          </>
        )}
        {planned?.when && (
          <>
            <dt>when</dt>
            <dd>
              <code>{planned.when}</code>
            </dd>
          </>
        )}
        {planned?.for_each && (
          <>
            <dt>for each</dt>
            <dd>
              <code>{planned.for_each}</code>
            </dd>
          </>
        )}
      </dl>
      {row?.status === 'WAITING' && row.wait?.kind === 'signal' && row.wait.signal && (
        <ApprovalButtons taskId={detail.task_id} signal={row.wait.signal} onDone={() => onChange?.()} />
      )}
      {row?.error && (
        <div className="error-box" data-role="step-error">
          <strong>error</strong> {row.error}
        </div>
      )}
      {items.length > 0 && (
        <div className="item-list">
          <h3>items</h3>
          {items.map((item) => (
            <button type="button" key={item.step} className={`chip status-${item.status.toLowerCase()}`} onClick={() => onSelect(item.step)}>
              {item.step}
            </button>
          ))}
        </div>
      )}
      {row?.input && Object.keys(row.input).length > 0 ? <Json label="input" value={row.input} /> : <Json label="input (the plan's template: not sent yet)" value={planned?.input ?? null} />}
      {row?.result !== null && row?.result !== undefined && <Json label="result" value={row.result} />}
      <h3>history</h3>
      <EventList events={eventsOfStep(events, stepKey)} />
    </aside>
  );
}
