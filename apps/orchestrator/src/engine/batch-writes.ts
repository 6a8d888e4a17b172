import type { HistoryBatch } from '@orchestrator/contracts';
import { subtaskWireId } from '../persistence/step-keys.js';
import type { NewTask, TaskRow } from '../persistence/task-rows.js';
import type { AttemptRef, Changes, Closed, InsertedEvent, NewEvent, StoppedRow } from '../persistence/workflow-transaction.js';
import type { RecordedEvent, Workflow } from './workflow.js';

/**
 * What the workflows of a batch changed, as the batch writes it: rows added (in the state they
 * reached, so that a row sent in the transition that made it is written once; a new workflow's
 * root too), rows changed, revised plans, the unfinished rows of stopped workflows, the history,
 * and the attempts dispatched (unsent until marked sent).
 */
export function changesOf(workflows: readonly Workflow[]): Changes {
  const insert: NewTask[] = [];
  const update: TaskRow[] = [];
  for (const wf of workflows) {
    if (wf.created) insert.push(withState(wf.created, wf.root));
    for (const [state, row] of wf.added) insert.push(withState(row, state));
    for (const row of wf.dirty) if (!wf.added.has(row) && !(wf.created && row === wf.root)) update.push(row);
  }
  return {
    update,
    insert,
    revisions: workflows.flatMap((wf) => (wf.revision ? [{ rootId: wf.root.id, ...wf.revision }] : [])),
    stops: workflows.flatMap((wf) => wf.stops),
    events: workflows.flatMap((wf) => wf.events.map((event) => newEvent(wf, event))),
    progress: workflows.flatMap((wf) => [...wf.progress].map(([id, value]) => ({ id, progress: value }))),
    reopened: workflows.flatMap((wf) => (wf.reopened ? [wf.root.id] : [])),
    retired: workflows.flatMap((wf) => (wf.retired ? [{ rootId: wf.root.id, ...wf.retired }] : [])),
    dispatched: workflows.flatMap((wf) => dispatchedBy(wf)),
    cancelsTaken: workflows.flatMap((wf) => (wf.created && wf.startCancelled ? [wf.root.task_id] : [])),
    signals: { insert: workflows.flatMap((wf) => wf.signals.inserted), take: workflows.flatMap((wf) => wf.signals.taken) },
    now: workflows[0]?.now ?? new Date(),
  };
}

/** The attempts a workflow's transition sends (those it stopped again before the commit are not sent at all). */
function dispatchedBy(wf: Workflow): AttemptRef[] {
  return wf.effects.flatMap((effect) => (effect.kind === 'dispatch' ? [{ id: effect.rowId, attempt: effect.attempt }] : []));
}

/**
 * What the commit leaves to do besides each transition's own effects: the history it added is
 * relayed (when its rows are known: a commit whose answer was lost has none, and stream clients
 * read the events from the table), and the agents of the rows a stop cancelled in the database
 * are told, their slots freed.
 */
export function afterCommit(workflows: readonly Workflow[], closed: Closed): void {
  let at = 0;
  for (const wf of workflows) {
    const rows = closed.events.slice(at, at + wf.events.length);
    at += wf.events.length;
    if (rows.length > 0) wf.effects.push({ kind: 'history', batch: historyBatch(wf, rows) });
  }
  for (const wf of workflows) if (wf.revision) wf.root.plan_revision = wf.revision.plan.revision ?? 1;
  const byRoot = new Map(workflows.map((wf) => [wf.root.id, wf]));
  for (const row of closed.stopped) stoppedEffects(byRoot.get(row.root_id), row);
}

function stoppedEffects(wf: Workflow | undefined, row: StoppedRow): void {
  if (!wf || !row.agent_name) return;
  const subtaskId = subtaskWireId(row.id, row.attempts);
  wf.effects.push({ kind: 'cancel', agent: row.agent_name, subtaskId }, { kind: 'release', agent: row.agent_name, subtaskId });
}

function newEvent(wf: Workflow, event: RecordedEvent): NewEvent {
  const { root } = wf;
  return { root_id: root.id, task_id: root.task_id, task_type: root.task_type, step_id: event.stepId, kind: event.kind, status: root.status, data: event.data };
}

/** The events a workflow committed, as they are relayed. */
function historyBatch(wf: Workflow, rows: readonly InsertedEvent[]): HistoryBatch {
  const { root } = wf;
  return {
    root_id: root.id,
    prev_id: rows[0]?.prev_id ?? null,
    events: rows.map((row, i) => {
      const event = wf.events[i];
      if (!event) throw new Error(`event ${i} of ${root.task_id} has no row`);
      return {
        id: row.id,
        task_id: root.task_id,
        task_type: root.task_type,
        step_id: event.stepId,
        kind: event.kind,
        status: root.status,
        at: new Date(row.at).toISOString(),
        data: event.data,
      };
    }),
  };
}

/** A new row as it is to be inserted: its state as the transition left it (the state has every column a transition changes). */
function withState(row: NewTask, state: TaskRow): NewTask {
  return { ...row, ...state, step_key: row.step_key, payload: state.payload ?? row.payload, result: state.result ?? row.result };
}
