import { formatDuration } from '../format';
import type { AttemptSpan } from '../model/workflow-model';

/**
 * The attempts of a workflow on one time axis, a lane per step (and item), from the workflow's
 * start to its end (or now while it runs). Failed and timed-out attempts stay visible before the retry.
 */
export function Gantt({ spans, start, end, onSelect }: { spans: readonly AttemptSpan[]; start: number; end: number; onSelect?: (step: string) => void }) {
  if (spans.length === 0) return <p className="muted">No attempt has been sent yet.</p>;
  const lanes = [...new Set(spans.map((span) => span.step))];
  const total = Math.max(1, end - start);
  const pct = (t: number) => `${(Math.min(Math.max(t - start, 0), total) / total) * 100}%`;
  return (
    <div className="gantt" role="table" aria-label="Attempts over time">
      <div className="gantt-axis">
        <span>0</span>
        <span>{formatDuration(total / 2)}</span>
        <span>{formatDuration(total)}</span>
      </div>
      {lanes.map((lane) => (
        <div className="gantt-lane" key={lane} role="row">
          <button type="button" className="gantt-label link" onClick={() => onSelect?.(lane)} title={lane}>
            {lane}
          </button>
          <div className="gantt-track">
            {spans
              .filter((span) => span.step === lane)
              .map((span) => {
                const stop = span.end ?? end;
                const title = `${span.step} · attempt ${span.attempt} on ${span.agent ?? '?'} · ${span.outcome.replace('_', ' ')} · ${formatDuration(stop - span.start)}${span.error ? ` · ${span.error}` : ''}`;
                return (
                  <span
                    key={`${span.attempt}-${span.start}`}
                    className={`gantt-bar outcome-${span.outcome}`}
                    style={{ left: pct(span.start), width: `max(3px, calc(${pct(stop)} - ${pct(span.start)}))` }}
                    title={title}
                    data-attempt={span.attempt}
                    data-outcome={span.outcome}
                  >
                    {span.attempt > 1 ? `#${span.attempt}` : ''}
                  </span>
                );
              })}
          </div>
        </div>
      ))}
    </div>
  );
}
