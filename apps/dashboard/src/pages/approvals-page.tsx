import { useState } from 'react';
import { Link } from 'react-router';
import { api, withQuery } from '../api/client';
import type { ApprovalPage } from '../api/types';
import { ApprovalButtons } from '../components/approval-buttons';
import { Empty, ErrorState, Loading } from '../components/states';
import { formatAge, formatTime, json } from '../format';
import { useNow } from '../hooks/use-now';
import { useResource } from '../hooks/use-resource';

/** Steps come and go as workflows reach them and people decide: the list is asked for every two seconds. */
const POLL_MS = 2000;

/** Every workflow waiting for a person (a step waiting for a signal), longest waiting first, each with what it shows and Approve / Reject. */
export function ApprovalsPage() {
  const now = useNow();
  const [cursor, setCursor] = useState<string | null>(null);
  const page = useResource(`approvals:${cursor ?? ''}`, (signal) => api<ApprovalPage>(withQuery('/approvals', { limit: 50, cursor }), { signal }), POLL_MS);
  return (
    <div>
      <header className="page-head">
        <h1>Approvals</h1>
        <span className="muted">workflows waiting for a person, longest waiting first</span>
      </header>
      {page.data === undefined ? (
        page.error ? (
          <ErrorState error={page.error} what="the approvals" retry={page.refresh} />
        ) : (
          <Loading what="approvals" />
        )
      ) : page.data.items.length === 0 ? (
        <Empty title="Nothing waits for a person.">
          A step with <code>wait_for: {'{ signal: approval }'}</code> shows here while it waits. Approve from here, the task&apos;s page, <code>orchestrator approve &lt;task_id&gt;</code>, or{' '}
          <code>POST /tasks/:task_id/signals/approval</code>.
        </Empty>
      ) : (
        <div className="approvals">
          {page.data.items.map((item) => (
            <section className="card approval-card" key={`${item.task_id}/${item.step}`} data-approval={item.task_id} data-step={item.step}>
              <div className="agent-head">
                <h2>
                  <Link to={`/tasks/${encodeURIComponent(item.task_id)}`}>
                    <code>{item.task_id}</code>
                  </Link>{' '}
                  <span className="muted">
                    {item.task_type} · step {item.step} · signal {item.signal}
                  </span>
                </h2>
              </div>
              <div className="muted">
                waiting {formatAge(item.waiting_since, now)}
                {item.deadline_at ? ` · times out at ${formatTime(item.deadline_at)} (then ${item.on_timeout})` : ' · no time limit'}
              </div>
              <pre>{json(item.input)}</pre>
              <ApprovalButtons taskId={item.task_id} signal={item.signal} onDone={page.refresh} />
            </section>
          ))}
          {page.data.next_cursor && (
            <button type="button" onClick={() => setCursor(page.data?.next_cursor ?? null)}>
              Next page
            </button>
          )}
        </div>
      )}
    </div>
  );
}
