import { HistoryKind, type HistoryEvent } from '@orchestrator/contracts';
import { formatDuration } from '../format/duration.js';
import { eventDetail } from '../format/history-line.js';
import { statusCell } from '../format/status.js';
import { alignColumns, type Cell } from '../format/table.js';
import type { Colors } from '../output.js';

export type StepPhase = 'PENDING' | 'RUNNING' | 'WAITING' | 'RETRYING' | 'COMPLETED' | 'FAILED' | 'SKIPPED' | 'CANCELLED';

/** What the board knows of a step (or a `for_each` item) from the history so far. */
export interface StepState {
  id: string;
  phase: StepPhase;
  agent: string | null;
  attempt: number;
  /** ms since the epoch: the first dispatch, and the end. */
  startedAt: number | null;
  endedAt: number | null;
  error: string | null;
  progress: { fraction: number; message: string | null } | null;
  /** A step that waits: for what (`signal approval`, `event payment.received`, `until …`). */
  waitingFor: string | null;
  /** A `for_each` step: how many items, and each item's state. */
  itemCount: number | null;
  items: Map<string, StepState>;
}

const FINAL_KINDS: ReadonlySet<string> = new Set([HistoryKind.Completed, HistoryKind.Failed, HistoryKind.Cancelled]);

/** True for the event that ends a workflow (for now: a retry may resume it). */
export function isFinalEvent(event: HistoryEvent): boolean {
  return FINAL_KINDS.has(event.kind);
}

const newStep = (id: string): StepState => ({ id, phase: 'PENDING', agent: null, attempt: 0, startedAt: null, endedAt: null, error: null, progress: null, waitingFor: null, itemCount: null, items: new Map() });

/** `each[3]` is item 3 of `each`. */
function splitItem(stepId: string): { step: string; item: string | null } {
  const match = /^(.+)(\[\d+\])$/.exec(stepId);
  return match?.[1] !== undefined && match[2] !== undefined ? { step: match[1], item: match[2] } : { step: stepId, item: null };
}

/**
 * A workflow's steps as its history tells them: fed the events of `GET /tasks/:id/stream` in order,
 * it keeps each step's state for the live display and says, event by event, what happened in a line.
 */
export class StepBoard {
  status = 'PENDING';
  taskType: string | null = null;
  startedAt: number | null = null;
  endedAt: number | null = null;
  error: string | null = null;
  /** In plan order. */
  readonly steps = new Map<string, StepState>();

  constructor(readonly taskId: string) {}

  /** Takes one event; returns the line that tells it (null for the bookkeeping ones). */
  apply(event: HistoryEvent): string | null {
    const at = Date.parse(event.at);
    const data = event.data ?? {};
    this.taskType = event.task_type;
    this.startedAt ??= at;
    if (event.step_id === null) return this.applyWorkflow(event, at, data);
    const state = this.stateOf(event.step_id);
    const text = (key: string): string | null => (typeof data[key] === 'string' ? data[key] : null);
    const number = (key: string): number | null => (typeof data[key] === 'number' ? data[key] : null);
    switch (event.kind) {
      case HistoryKind.Dispatched:
        state.phase = 'RUNNING';
        state.agent = text('agent') ?? state.agent;
        state.attempt = number('attempt') ?? state.attempt + 1;
        state.startedAt ??= at;
        state.progress = null;
        break;
      case HistoryKind.Answered:
        if (text('status') === 'COMPLETED' && state.itemCount === null) {
          state.phase = 'COMPLETED';
          state.endedAt = at;
          state.error = null;
          state.progress = null;
        } else if (text('status') === 'FAILED') state.error = text('error');
        break;
      case HistoryKind.Retried:
        state.phase = 'RETRYING';
        state.error = text('error') ?? state.error;
        break;
      case HistoryKind.TimedOut:
        state.error = text('on_timeout') === null ? `no answer in ${formatDuration(number('timeout_ms') ?? 0)}` : `nothing came in ${formatDuration(number('timeout_ms') ?? 0)}`;
        break;
      case HistoryKind.Waiting:
        state.phase = 'WAITING';
        state.startedAt ??= at;
        state.waitingFor = text('signal') !== null ? `signal ${text('signal') ?? ''}` : text('event') !== null ? `event ${text('event') ?? ''}` : `until ${text('until') ?? '?'}`;
        break;
      case HistoryKind.SignalReceived:
      case HistoryKind.EventReceived:
      case HistoryKind.Woke:
        break;
      case HistoryKind.Skipped:
        state.phase = 'SKIPPED';
        state.endedAt = at;
        break;
      case HistoryKind.Expanded:
        state.phase = 'RUNNING';
        state.itemCount = number('items') ?? 0;
        state.startedAt ??= at;
        break;
      case HistoryKind.StepCompleted:
        state.phase = 'COMPLETED';
        state.endedAt = at;
        state.error = null;
        break;
      case HistoryKind.StepFailed:
        state.phase = 'FAILED';
        state.endedAt = at;
        state.error = text('error') ?? state.error;
        break;
      case HistoryKind.Progress:
        state.progress = { fraction: number('fraction') ?? 0, message: text('message') };
        break;
      // The workflow's own kinds, which come without a step.
      case HistoryKind.Submitted:
      case HistoryKind.Planned:
      case HistoryKind.Started:
      case HistoryKind.RevisionRequested:
      case HistoryKind.Revised:
      case HistoryKind.Resumed:
      case HistoryKind.Completed:
      case HistoryKind.Failed:
      case HistoryKind.Cancelled:
      case HistoryKind.AnswerSent:
      case HistoryKind.Queued:
        return null;
    }
    return this.line(event, at);
  }

  /** True once every step the plan names has ended. */
  get done(): { finished: number; total: number } {
    const steps = [...this.steps.values()];
    return { finished: steps.filter((s) => s.endedAt !== null).length, total: steps.length };
  }

  /** The live display: a head line and a line per step (a `for_each` step counts its items). */
  render(colors: Colors, now = Date.now()): string[] {
    const { finished, total } = this.done;
    const elapsed = this.startedAt === null ? 0 : (this.endedAt ?? now) - this.startedAt;
    const status = statusCell(this.status, colors);
    const head = `${colors.bold(this.taskId)}  ${this.taskType ?? ''}  ${typeof status === 'string' ? status : status.style(status.text)}  ${finished}/${total} steps  ${formatDuration(elapsed)}`;
    const rows = [...this.steps.values()].map((step): Cell[] => {
      const ms = step.startedAt === null ? null : (step.endedAt ?? now) - step.startedAt;
      return [
        `  ${step.id}`,
        statusCell(step.phase, colors),
        step.agent ?? '',
        step.attempt > 1 ? `attempt ${step.attempt}` : '',
        ms === null ? '' : formatDuration(ms),
        { text: this.note(step), style: step.phase === 'FAILED' || step.phase === 'RETRYING' ? colors.red : colors.dim },
      ];
    });
    return [head, ...alignColumns(rows)];
  }

  private note(step: StepState): string {
    if (step.itemCount !== null) {
      const items = [...step.items.values()];
      const count = (phase: StepPhase): number => items.filter((item) => item.phase === phase).length;
      const running = count('RUNNING') + count('RETRYING');
      return `${count('COMPLETED')}/${step.itemCount} items${running > 0 ? `, ${running} running` : ''}${count('FAILED') > 0 ? `, ${count('FAILED')} failed` : ''}`;
    }
    if ((step.phase === 'FAILED' || step.phase === 'RETRYING') && step.error) return step.error;
    if (step.phase === 'WAITING' && step.waitingFor) return `waits for ${step.waitingFor}`;
    if (step.phase === 'RUNNING' && step.progress) return `${progressBar(step.progress.fraction)} ${Math.round(step.progress.fraction * 100)}%${step.progress.message ? ` ${step.progress.message}` : ''}`;
    return '';
  }

  private applyWorkflow(event: HistoryEvent, at: number, data: Record<string, unknown>): string | null {
    this.status = event.status;
    switch (event.kind) {
      case HistoryKind.Planned:
      case HistoryKind.Revised:
        for (const id of Array.isArray(data['steps']) ? data['steps'] : []) if (typeof id === 'string') this.stateOf(id);
        break;
      case HistoryKind.Resumed:
        this.endedAt = null;
        this.error = null;
        for (const id of Array.isArray(data['steps']) ? data['steps'] : []) {
          if (typeof id === 'string') Object.assign(this.stateOf(id), { phase: 'PENDING', endedAt: null, error: null, progress: null });
        }
        break;
      case HistoryKind.Completed:
      case HistoryKind.Failed:
      case HistoryKind.Cancelled:
        this.endedAt = at;
        this.error = typeof data['error'] === 'string' ? data['error'] : null;
        // What had not ended stopped with the workflow.
        for (const step of this.steps.values()) {
          if (step.endedAt === null && event.kind !== HistoryKind.Completed) Object.assign(step, { phase: 'CANCELLED', endedAt: at });
        }
        break;
      case HistoryKind.AnswerSent:
        return null;
      case HistoryKind.Submitted:
      case HistoryKind.Queued:
      case HistoryKind.Started:
      case HistoryKind.RevisionRequested:
      case HistoryKind.Dispatched:
      case HistoryKind.Answered:
      case HistoryKind.Retried:
      case HistoryKind.TimedOut:
      case HistoryKind.Skipped:
      case HistoryKind.Expanded:
      case HistoryKind.StepCompleted:
      case HistoryKind.StepFailed:
      case HistoryKind.Progress:
      case HistoryKind.Waiting:
      case HistoryKind.SignalReceived:
      case HistoryKind.EventReceived:
      case HistoryKind.Woke:
        break;
    }
    return this.line(event, at);
  }

  /** The state of a step, or of an item (made under its step). */
  private stateOf(stepId: string): StepState {
    const { step, item } = splitItem(stepId);
    let state = this.steps.get(step);
    if (!state) {
      state = newStep(step);
      this.steps.set(step, state);
    }
    if (item === null) return state;
    let itemState = state.items.get(item);
    if (!itemState) {
      itemState = newStep(stepId);
      state.items.set(item, itemState);
    }
    return itemState;
  }

  /** `+0.41s  draft  answered  llm_agent, attempt 1, COMPLETED` */
  private line(event: HistoryEvent, at: number): string {
    const elapsed = `+${formatDuration(at - (this.startedAt ?? at))}`;
    return [elapsed.padEnd(8), (event.step_id ?? this.taskId).padEnd(16), event.kind.padEnd(12), eventDetail(event)].join('  ').trimEnd();
  }
}

/** `[#####-----]` for a fraction from 0 to 1. */
export function progressBar(fraction: number, width = 10): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}
