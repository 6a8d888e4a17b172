import { useCallback, useMemo, useRef } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { ApiError, api, taskPath } from '../api/client';
import { FINISHED, type TaskDetail } from '../api/types';
import { Empty, ErrorState, Loading } from '../components/states';
import { Gantt } from '../components/gantt';
import { EventList, StepPanel } from '../components/step-panel';
import { StatusBadge, StepsProgress } from '../components/status-badge';
import { UsageCard } from '../components/usage-card';
import { elapsed, formatAge, formatTime } from '../format';
import { JsonView } from '../components/json-view';
import { FlowGraph } from '../graph/flow-graph';
import { NODE_WIDTH, StepNode, nodeHeight } from '../graph/step-node';
import { useNow } from '../hooks/use-now';
import { useResource } from '../hooks/use-resource';
import { useTaskHistory } from '../hooks/use-task-history';
import { attemptSpans, graphSteps, planKey, type StepNodeData } from '../model/workflow-model';
import { RetryFromStep } from './retry-from-step';
import { TaskActions } from './task-actions';
import { StreamBadge } from './stream-badge';

const nodeTypes = { step: StepNode };

/** One workflow: its graph drawn live, the attempts on a timeline, a step's details, the actions. */
export function TaskPage() {
  const taskId = useParams()['taskId'] ?? '';
  // The step shown in the side panel is in the URL (`?step=`): a link or a reload opens it again.
  const [params, setParams] = useSearchParams();
  const selected = params.get('step');
  const setSelected = useCallback((step: string | null) => setParams(step === null ? {} : { step }, { replace: true }), [setParams]);
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
          <StepsProgress progress={task.progress} unit=" steps" />
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
        {selected && (
          <StepPanel
            detail={task}
            stepKey={selected}
            events={events}
            onClose={() => setSelected(null)}
            onSelect={setSelected}
            onChange={detail.refresh}
            actions={<RetryFromStep key={`${selected}:${task.status}`} task={task} stepKey={selected} onDone={detail.refresh} />}
          />
        )}
      </div>
      <section className="card">
        <h2>Timeline of attempts</h2>
        <Gantt spans={spans} start={start} end={end} onSelect={setSelected} />
      </section>
      <UsageCard usage={task.usage} budget={task.budget} steps={task.steps} />
      <div className="two-columns">
        <section className="card">
          <h2>Request</h2>
          <JsonView value={task.payload} label="request payload" />
        </section>
        <section className="card" data-role="result">
          <h2>Result</h2>
          {task.result ? (
            <JsonView value={outputFirst(task.result)} label="result" openDepth={3} folded={['steps']} />
          ) : (
            <p className="muted">{finished(task) ? 'No result.' : 'Not finished yet.'}</p>
          )}
        </section>
      </div>
      <section className="card">
        <h2>History</h2>
        <EventList events={events} />
      </section>
    </div>
  );
}

/** A workflow's result with its output first and every step's result after it (folded: they may hold whole documents). */
function outputFirst(result: Record<string, unknown>): Record<string, unknown> {
  const { output, steps, ...rest } = result;
  return { ...(output !== undefined ? { output } : {}), ...rest, ...(steps !== undefined ? { steps } : {}) };
}
