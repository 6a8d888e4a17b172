import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../api/client';
import type { Listing } from '../api/types';
import { Empty, ErrorState, Loading } from '../components/states';
import { StatusBadge } from '../components/status-badge';
import { formatAge, formatDuration, formatTime } from '../format';
import { useNow } from '../hooks/use-now';
import { useResource } from '../hooks/use-resource';

/** A tick of a schedule and what it led to (`GET /schedules`). */
interface ScheduleRun {
  tick: string;
  task_id: string;
  kind: 'scheduled' | 'trigger' | 'backfill';
  outcome: 'started' | 'skipped' | 'buffered' | 'failed';
  reason: string | null;
  status: string | null;
  at: string;
}

interface Schedule {
  schedule_id: string;
  task_type: string;
  cron: string | null;
  every_ms: number | null;
  timezone: string | null;
  overlap: string;
  paused: boolean;
  source: 'api' | 'file';
  file: string | null;
  next_fire_at: string | null;
  next_fire_times: string[];
  last_run: ScheduleRun | null;
  fires: number;
  skipped: number;
}

/** Schedules have no stream: their list is asked for every two seconds. */
const POLL_MS = 2000;

function timing(schedule: Schedule): string {
  if (schedule.cron !== null) return `${schedule.cron}${schedule.timezone ? ` (${schedule.timezone})` : ''}`;
  return `every ${formatDuration(schedule.every_ms ?? 0)}`;
}

function LastRun({ run, now }: { run: ScheduleRun | null; now: number }) {
  if (run === null) return <span className="muted">none yet</span>;
  return (
    <span title={run.reason ?? undefined}>
      {run.outcome === 'started' ? <StatusBadge status={run.status ?? 'PENDING'} /> : <span className="chip">{run.outcome}</span>}{' '}
      {run.outcome === 'started' ? <Link to={`/tasks/${encodeURIComponent(run.task_id)}`}>{formatAge(run.at, now)}</Link> : <span className="muted">{formatAge(run.at, now)}</span>}
      {run.kind !== 'scheduled' && <span className="muted"> · {run.kind}</span>}
    </span>
  );
}

/** Every schedule: when it runs, its next ticks and its last run, with pause, resume and trigger. */
export function SchedulesPage() {
  const now = useNow();
  const schedules = useResource('schedules', (signal) => api<Listing<Schedule>>('/schedules', { signal }), POLL_MS);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);

  const act = async (schedule: Schedule, action: 'pause' | 'resume' | 'trigger') => {
    setBusy(schedule.schedule_id);
    setMessage(null);
    try {
      const reply = await api<{ task_id?: string; outcome?: string }>(`/schedules/${encodeURIComponent(schedule.schedule_id)}/${action}`, { method: 'POST', body: {} });
      if (action === 'trigger') setMessage({ text: `${schedule.schedule_id}: ${reply.task_id ?? ''} ${reply.outcome ?? ''}`, error: false });
      schedules.refresh();
    } catch (e) {
      setMessage({ text: `${schedule.schedule_id}: ${(e as Error).message}`, error: true });
    } finally {
      setBusy(null);
    }
  };

  return (
    <div>
      <header className="page-head">
        <h1>Schedules</h1>
        <span className="muted">workflows started at times, every two seconds</span>
      </header>
      {message && (
        <div className={message.error ? 'state state-error' : 'state'} role={message.error ? 'alert' : 'status'}>
          {message.text}
        </div>
      )}
      {schedules.data === undefined ? (
        schedules.error ? (
          <ErrorState error={schedules.error} what="the schedules" retry={schedules.refresh} />
        ) : (
          <Loading what="schedules" />
        )
      ) : schedules.data.items.length === 0 ? (
        <Empty title="No schedules.">
          Create one over HTTP (
          <code>{`curl -X POST ${location.origin}/schedules -H 'content-type: application/json' -d '{"schedule_id":"hourly-post","task_type":"create_blog_post","payload":{"topic":"Graphs"},"cron":"0 0 * * * *"}'`}</code>
          ), with <code>orchestrator schedules create</code>, or declare it in a file of <code>workflows/schedules/</code>.
        </Empty>
      ) : (
        <table className="tasks schedules" aria-label="schedules">
          <thead>
            <tr>
              <th>schedule</th>
              <th>task type</th>
              <th>when</th>
              <th>overlap</th>
              <th>next</th>
              <th>last run</th>
              <th>runs</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {schedules.data.items.map((schedule) => (
              <tr key={schedule.schedule_id} data-schedule={schedule.schedule_id} data-paused={schedule.paused}>
                <td>
                  <strong>{schedule.schedule_id}</strong>
                  {schedule.source === 'file' && (
                    <div className="muted" title={schedule.file ?? undefined}>
                      from a file
                    </div>
                  )}
                </td>
                <td>{schedule.task_type}</td>
                <td>
                  <code>{timing(schedule)}</code>
                </td>
                <td>{schedule.overlap}</td>
                <td data-role="next" title={schedule.next_fire_times.map(formatTime).join('\n')}>
                  {schedule.paused ? <span className="chip">paused</span> : formatTime(schedule.next_fire_at)}
                </td>
                <td data-role="last-run">
                  <LastRun run={schedule.last_run} now={now} />
                </td>
                <td title="runs started / ticks skipped">
                  {schedule.fires} / <span className="muted">{schedule.skipped}</span>
                </td>
                <td className="actions">
                  <button type="button" disabled={busy !== null} onClick={() => void act(schedule, schedule.paused ? 'resume' : 'pause')}>
                    {schedule.paused ? 'Resume' : 'Pause'}
                  </button>
                  <button type="button" disabled={busy !== null} onClick={() => void act(schedule, 'trigger')}>
                    Trigger
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {schedules.error && schedules.data !== undefined && <ErrorState error={schedules.error} what="the latest schedules (showing the last ones loaded)" retry={schedules.refresh} />}
    </div>
  );
}
