import type { Budget, StepRow, Usage } from '../api/types';

const amount = (n: number | undefined): string => (n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: 4 }));

/** Used of a limit, as a bar; the number alone without one. */
function Spent({ label, used, limit, role }: { label: string; used: number | undefined; limit: number | undefined; role: string }) {
  const fraction = limit === undefined || limit === 0 ? null : Math.min(1, (used ?? 0) / limit);
  return (
    <div className="usage-total" data-role={role}>
      <span className="muted">{label}</span> <strong>{amount(used ?? (limit === undefined ? undefined : 0))}</strong>
      {limit !== undefined && (
        <>
          <span className="muted"> of {amount(limit)}</span>
          <span className="progress-track usage-bar">
            <span className={`progress-fill${(used ?? 0) > limit ? ' over' : ''}`} style={{ width: `${(fraction ?? 0) * 100}%` }} />
          </span>
        </>
      )}
    </div>
  );
}

/**
 * What a workflow cost, as its agents reported it: the total against its budget, and each step's
 * (a `for_each` step's is its items', a `workflow:` step's its child's).
 */
export function UsageCard({ usage, budget, steps }: { usage: Usage | null | undefined; budget: Budget | null | undefined; steps: StepRow[] }) {
  const metered = steps.filter((step) => step.usage && !/\[\d+\]$/.test(step.step));
  return (
    <section className="card" data-role="usage">
      <h2>Usage</h2>
      {!usage && !budget ? (
        <p className="muted">No agent reported what its work cost.</p>
      ) : (
        <div className="usage-totals">
          <Spent label="tokens" used={usage?.tokens} limit={budget?.max_tokens} role="usage-tokens" />
          <Spent label="cost" used={usage?.cost} limit={budget?.max_cost} role="usage-cost" />
          {(usage?.input_tokens !== undefined || usage?.output_tokens !== undefined) && (
            <div className="usage-total muted">
              input {amount(usage.input_tokens)} · output {amount(usage.output_tokens)}
            </div>
          )}
        </div>
      )}
      {metered.length > 0 && (
        <table className="usage-steps">
          <thead>
            <tr>
              <th>step</th>
              <th>tokens</th>
              <th>input</th>
              <th>output</th>
              <th>cost</th>
            </tr>
          </thead>
          <tbody>
            {metered.map((step) => (
              <tr key={step.step} data-step={step.step}>
                <td>
                  <code>{step.step}</code>
                </td>
                <td>{amount(step.usage?.tokens)}</td>
                <td>{amount(step.usage?.input_tokens)}</td>
                <td>{amount(step.usage?.output_tokens)}</td>
                <td>{amount(step.usage?.cost)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
