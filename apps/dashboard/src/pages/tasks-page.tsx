import { useCallback, useMemo, useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, withQuery } from '../api/client';
import type { AgentInfo, Listing, TaskPage, WorkflowDefinition } from '../api/types';
import { Empty, ErrorState, Loading } from '../components/states';
import { StatusBadge, StepsProgress } from '../components/status-badge';
import { elapsed, formatAge, formatTime } from '../format';
import { useEventStream } from '../hooks/use-event-stream';
import { useNow } from '../hooks/use-now';
import { useResource } from '../hooks/use-resource';
import { StreamBadge } from './stream-badge';
import { SubmitTaskForm } from './submit-task-form';
import { searchOf, TaskFilters } from './task-filters';

const PAGE_SIZE = 25;

/** Every task, newest first, live: searched on the server by the filters in the URL, opened by task_id, paged by cursor. */
export function TasksPage() {
  const [params, setParams] = useSearchParams();
  const search = useMemo(() => searchOf(params), [params]);
  const searchKey = JSON.stringify(search);
  const taskType = search['task_type'] ?? '';
  const [taskIdText, setTaskIdText] = useState('');
  // The cursors of the pages before this one, to go back; the last is this page's.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const [creating, setCreating] = useState(false);
  const navigate = useNavigate();
  const now = useNow();

  const applySearch = (next: Record<string, string>) => {
    setParams(new URLSearchParams(next), { replace: false });
    setCursors([]);
  };

  const load = useCallback(
    (signal: AbortSignal) => api<TaskPage>(withQuery('/tasks', { ...(JSON.parse(searchKey) as Record<string, string>), limit: PAGE_SIZE, cursor }), { signal }),
    [searchKey, cursor],
  );
  const refreshSoon = useRef<number | null>(null);
  const stream = useEventStream(withQuery('/events/stream', { task_type: taskType }), () => {
    // Many events a second under load: at most one fetch of the page a second.
    if (refreshSoon.current !== null) return;
    refreshSoon.current = window.setTimeout(() => {
      refreshSoon.current = null;
      page.refresh();
    }, 1000);
  });
  const page = useResource(`tasks:${searchKey}:${cursor ?? ''}`, load, stream === 'live' ? 15_000 : 2000);
  const workflows = useResource('workflows', (signal) => api<Listing<WorkflowDefinition>>('/workflows', { signal }));
  const agents = useResource('agents', (signal) => api<Listing<AgentInfo>>('/agents', { signal }));

  const next = page.data?.next_cursor;
  const open = (event: FormEvent) => {
    event.preventDefault();
    if (taskIdText.trim() !== '') void navigate(`/tasks/${encodeURIComponent(taskIdText.trim())}`);
  };
  const tasks = page.data?.items ?? [];
  const types = [...new Set([...(workflows.data?.items ?? []).map((w) => w.task_type), ...tasks.map((t) => t.task_type)])].sort();
  const searching = Object.keys(search).length > 0;

  return (
    <div>
      <header className="page-head">
        <h1>Tasks</h1>
        <div className="head-side">
          <StreamBadge state={stream} />
          <button type="button" className="primary" onClick={() => setCreating((c) => !c)}>
            {creating ? 'Close' : 'New task'}
          </button>
        </div>
      </header>
      {creating && <SubmitTaskForm workflows={workflows.data?.items ?? []} onCancel={() => setCreating(false)} />}
      <TaskFilters search={search} taskTypes={types} agents={(agents.data?.items ?? []).map((a) => a.name)} onSearch={applySearch} />
      <form className="open-task" onSubmit={open}>
        <input type="search" placeholder="task_id" value={taskIdText} onChange={(e) => setTaskIdText(e.target.value)} aria-label="open a task by its task_id" />
        <button type="submit" disabled={taskIdText.trim() === ''}>
          Open
        </button>
      </form>
      {page.data === undefined ? (
        page.error ? (
          <ErrorState error={page.error} what="the tasks" retry={page.refresh} />
        ) : (
          <Loading what="tasks" />
        )
      ) : tasks.length === 0 ? (
        !searching && cursors.length === 0 ? (
          <Empty title="No tasks yet.">
            Submit one with <strong>New task</strong> above, over HTTP (
            <code>{`curl -X POST ${location.origin}/tasks -H 'content-type: application/json' -d '{"task_id":"post-1","task_type":"create_blog_post","payload":{"topic":"Graphs"}}'`}</code>
            ), over NATS on <code>agent.orchestrator_agent.task</code>, or run <code>npm run demo</code>.
          </Empty>
        ) : (
          <Empty title="No task matches.">
            <button type="button" className="link" onClick={() => applySearch({})}>
              clear the filters
            </button>
            .
          </Empty>
        )
      ) : (
        <div className="table-scroll">
        <table className="tasks" aria-label="tasks">
          <thead>
            <tr>
              <th>task_id</th>
              <th>type</th>
              <th>status</th>
              <th className="wide-only">priority</th>
              <th>progress</th>
              <th className="wide-only">age</th>
              <th className="wide-only">duration</th>
            </tr>
          </thead>
          <tbody>
            {tasks.map((task) => (
              <tr key={task.task_id} data-task={task.task_id} data-status={task.status}>
                <td>
                  <Link to={`/tasks/${encodeURIComponent(task.task_id)}`}>{task.task_id}</Link>
                  {task.error && (
                    <div className="row-error" title={task.error}>
                      {task.error}
                    </div>
                  )}
                </td>
                <td>{task.task_type}</td>
                <td>
                  <StatusBadge status={task.status} />
                </td>
                <td className={`priority-${task.priority.toLowerCase()} wide-only`}>{task.priority.toLowerCase()}</td>
                <td>
                  <StepsProgress progress={task.progress} />
                </td>
                <td className="wide-only" title={formatTime(task.created_at)}>
                  {formatAge(task.created_at, now)}
                </td>
                <td className="wide-only">{elapsed(task.started_at ?? task.created_at, task.completed_at, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
      {page.error && page.data !== undefined && <ErrorState error={page.error} what="the latest tasks (showing the last ones loaded)" retry={page.refresh} />}
      <nav className="pager" aria-label="pages">
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors([])}>
          Newest
        </button>
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
          ← Newer
        </button>
        <span className="muted">page {cursors.length + 1}</span>
        <button type="button" disabled={!next} onClick={() => next && setCursors((c) => [...c, next])}>
          Older →
        </button>
      </nav>
    </div>
  );
}
