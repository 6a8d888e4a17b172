import { useCallback, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError, api, taskPath } from '../api/client';
import { FINISHED, type TaskDetail } from '../api/types';
import { Empty, ErrorState, Loading } from '../components/states';
import { Gantt } from '../components/gantt';
import { EventList, StepPanel } from '../components/step-panel';
import { ProgressBar, StatusBadge } from '../components/status-badge';
import { UsageCard } from '../components/usage-card';
import { elapsed, formatAge, formatTime, json } from '../format';
import { FlowGraph } from '../graph/flow-graph';
import { NODE_WIDTH, StepNode, nodeHeight } from '../graph/step-node';
import { useNow } from '../hooks/use-now';
import { useResource } from '../hooks/use-resource';
import { useTaskHistory } from '../hooks/use-task-history';
import { attemptSpans, graphSteps, planKey, type StepNodeData } from '../model/workflow-model';
import { TaskActions } from './task-actions';
import { StreamBadge } from './stream-badge';

const nodeTypes = { step: StepNode };

/** One workflow: its graph drawn live, the attempts on a timeline, a step's details, the actions. */
export function TaskPage() {
  const taskId = useParams()['taskId'] ?? '';
  const [selected, setSelected] = useState<string | null>(null);
  const now = useNow();
  const load = useCallback((signal: AbortSignal) => api<TaskDetail>(taskPath(taskId), { signal }), [taskId]);
  const refreshSoon = useRef<number | null>(null);
  const { events, stream } = useTaskHistory(taskId, () => {
    // Events come in bursts (one commit, several steps): one fetch for each burst.
    if (refreshSoon.current !== null) return;
    refreshSoon.current = window.setTimeout(() => {
      refreshSoon.current = null;
      detail.refresh();
    }, 100);
  });
  const finished = (d: TaskDetail | undefined) => d !== undefined && FINISHED.has(d.status);
  // With the stream, a slow poll only in case an event was missed; without it, a poll every 1.5 s.
  const detail = useResource(`task:${taskId}`, load, stream === 'live' ? 10_000 : 1500);
  const task = detail.data;
  const steps = useMemo(() => (task ? graphSteps(task, selected === null ? null : planKey(selected)) : []), [task, selected]);
  const spans = useMemo(() => attemptSpans(events), [events]);

  if (task === undefined) {
    if (detail.error instanceof ApiError && detail.error.status === 404)
      return (
        <Empty title={`No task with task_id "${taskId}".`}>
          Check the id, or find the task in the <Link to="/">task list</Link>. Tasks finished more than <code>RETENTION_DAYS</code> ago are deleted.
        </Empty>
      );
    if (detail.error) return <ErrorState error={detail.error} what={`task ${taskId}`} retry={detail.refresh} />;
    return <Loading what={`task ${taskId}`} />;
  }

  const start = Date.parse(task.started_at ?? task.created_at);
  const end = task.completed_at ? Date.parse(task.completed_at) : now;
  const flowSteps = steps.map((step) => ({ id: step.id, depends_on: step.depends_on, width: NODE_WIDTH, height: nodeHeight(step.data), data: step.data }));
  const graphHeight = Math.min(640, Math.max(260, Math.max(...flowSteps.map((s) => s.height), 0) * 2.6));

  return (
    <div className="task-page" data-task-status={task.status}>
      <header className="page-head">
        <div>
          <Link to="/" className="muted">
            ← tasks
          </Link>
          <h1>
            <code>{task.task_id}</code> <StatusBadge status={task.status} />
          </h1>
          <div className="muted">
            {task.task_type}
            {task.workflow ? ` v${task.workflow.version}` : ''}
            {task.plan?.revision && task.plan.revision > 1 ? ` · plan revision ${task.plan.revision}` : ''} · priority {task.priority.toLowerCase()} · created {formatAge(task.created_at, now)} (
            {formatTime(task.created_at)}) · {finished(task) ? 'took' : 'running for'} {elapsed(task.started_at ?? task.created_at, task.completed_at, now)}
            {task.requester_id ? ` · for ${task.requester_id}` : ''}
          </div>
        </div>
        <div className="head-side">
          <ProgressBar done={task.progress.done} total={task.progress.total} label={`${task.progress.done}/${task.progress.total} steps`} />
          <StreamBadge state={stream} />
          <TaskActions task={task} onDone={detail.refresh} />
        </div>
      </header>
      {task.error && (
        <div className="error-box" data-role="task-error">
          <strong>{task.status === 'CANCELLED' ? 'cancelled' : 'failed'}</strong> {task.error}
        </div>
      )}
      <div className={`workflow-view${selected ? ' with-panel' : ''}`}>
        <section className="card graph-card">
          <h2>Workflow</h2>
          {flowSteps.length === 0 ? (
            <Empty title="No plan yet.">{task.status === 'PENDING' ? 'The planner is working out the steps; they appear here as soon as it answers.' : 'This task ended before it had a plan: its error says why.'}</Empty>
          ) : (
            <FlowGraph<StepNodeData>
              steps={flowSteps}
              nodeTypes={nodeTypes}
              nodeType="step"
              height={graphHeight}
              interactive
              fitKey={selected === null ? 'alone' : 'with-panel'}
              onSelect={setSelected}
              animateInto={(data) => data.status === 'RUNNING'}
            />
          )}
          <p className="legend">
            {['pending', 'running', 'completed', 'failed', 'cancelled', 'skipped'].map((s) => (
              <span key={s} className={`legend-item status-${s}`}>
                {s}
              </span>
            ))}
            <span className="muted">Click a step for its input, result, error and history.</span>
          </p>
        </section>
        {selected && <StepPanel detail={task} stepKey={selected} events={events} onClose={() => setSelected(null)} onSelect={setSelected} onChange={detail.refresh} />}
      </div>
      <section className="card">
        <h2>Timeline of attempts</h2>
        <Gantt spans={spans} start={start} end={end} onSelect={setSelected} />
      </section>
      <UsageCard usage={task.usage} budget={task.budget} steps={task.steps} />
      <div className="two-columns">
        <section className="card">
          <h2>Request</h2>
          <pre>{json(task.payload)}</pre>
        </section>
        <section className="card">
          <h2>Result</h2>
          {task.result ? <pre>{json(task.result)}</pre> : <p className="muted">{finished(task) ? 'No result.' : 'Not finished yet.'}</p>}
        </section>
      </div>
      <section className="card">
        <h2>History</h2>
        <EventList events={events} />
      </section>
    </div>
  );
}
