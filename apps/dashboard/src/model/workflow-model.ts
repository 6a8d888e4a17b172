import type { HistoryEvent, PlannedStep, StepProgress, StepRow, TaskDetail, TaskStatus } from '../api/types';

/** The plan step a row belongs to: `sections[3]` and `sections@1` belong to `sections`. */
export function planKey(stepKey: string): string {
  const end = stepKey.search(/[[@]/);
  return end < 0 ? stepKey : stepKey.slice(0, end);
}

export function isItemKey(stepKey: string): boolean {
  return /\[\d+\]/.test(stepKey);
}

/** A row a revised plan or a retry from a step replaced, kept for the record (`review@1`). */
export function isRetiredKey(stepKey: string): boolean {
  return stepKey.includes('@');
}

export interface ItemCell {
  key: string;
  status: TaskStatus;
}

/** What a node of the workflow's graph shows. */
export interface StepNodeData extends Record<string, unknown> {
  id: string;
  task_type: string;
  status: TaskStatus;
  /** Completed without work: its `when` was false. */
  skipped: boolean;
  /** The agent that has it (or had it last), else the one or the capability the plan names. */
  agent: string;
  /** Attempts of this run of the step, against the plan's; a retried workflow's step counts on from earlier runs (`attempts_in_all`). */
  attempts: number;
  max_attempts: number | null;
  attempts_in_all: number;
  started_at: string | null;
  completed_at: string | null;
  progress: StepProgress | null;
  /** The items of a `for_each` step, in list order; null for other steps. */
  items: ItemCell[] | null;
  optional: boolean;
  condition: string | null;
  selected: boolean;
}

export interface GraphStep {
  id: string;
  depends_on: string[];
  data: StepNodeData;
}

function target(step: PlannedStep): string {
  if (step.workflow) return `workflow ${step.workflow}`;
  return step.agent ?? (step.capability ? `any ${step.capability}` : '–');
}

function isSkipped(row: StepRow | undefined): boolean {
  return row?.status === 'COMPLETED' && row.result !== null && row.result['skipped'] === true;
}

/**
 * The steps of the plan a workflow runs now, each with the state of its row and, for a `for_each`
 * step, of its items. Without a plan (a workflow that failed before it had one) the rows stand alone.
 */
export function graphSteps(detail: TaskDetail, selected: string | null): GraphStep[] {
  const rows = new Map(detail.steps.map((row) => [row.step, row]));
  const items = new Map<string, ItemCell[]>();
  for (const row of detail.steps) {
    if (!isItemKey(row.step) || isRetiredKey(row.step)) continue;
    const list = items.get(planKey(row.step)) ?? [];
    list.push({ key: row.step, status: row.status });
    items.set(planKey(row.step), list);
  }
  const planned: { id: string; depends_on: string[]; step: PlannedStep | null }[] = detail.plan
    ? detail.plan.steps.map((step) => ({ id: step.id, depends_on: step.depends_on, step }))
    : detail.steps.filter((row) => !isItemKey(row.step) && !isRetiredKey(row.step)).map((row) => ({ id: row.step, depends_on: row.depends_on, step: null }));
  return planned.map(({ id, depends_on, step }) => {
    const row = rows.get(id);
    const perRun = step?.max_attempts ?? row?.max_attempts ?? null;
    const earlier = row && perRun !== null ? Math.max(0, row.max_attempts - perRun) : 0;
    return {
      id,
      depends_on,
      data: {
        id,
        task_type: step?.task_type ?? row?.task_type ?? '',
        status: row?.status ?? 'PENDING',
        skipped: isSkipped(row),
        agent: row?.agent ?? (step ? target(step) : '–'),
        attempts: Math.max(0, (row?.attempts ?? 0) - earlier),
        max_attempts: perRun,
        attempts_in_all: row?.attempts ?? 0,
        started_at: row?.started_at ?? null,
        completed_at: row?.completed_at ?? null,
        progress: row?.progress ?? null,
        items: step?.for_each ? (items.get(id) ?? []) : items.has(id) ? (items.get(id) ?? null) : null,
        optional: step?.optional ?? false,
        condition: step?.when ?? null,
        selected: selected === id,
      },
    };
  });
}

export type AttemptOutcome = 'running' | 'completed' | 'failed' | 'timed_out' | 'stopped';

/** One attempt of a step (or item) on the timeline, from its history. */
export interface AttemptSpan {
  step: string;
  attempt: number;
  agent: string | null;
  start: number;
  end: number | null;
  outcome: AttemptOutcome;
  error: string | null;
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/**
 * The attempts of a workflow from its history: each `dispatched` opens one, the step's next
 * `answered` or `timed_out` closes it; an attempt still open when the workflow finished was stopped.
 */
export function attemptSpans(events: readonly HistoryEvent[]): AttemptSpan[] {
  const spans: AttemptSpan[] = [];
  const open = new Map<string, AttemptSpan>();
  const close = (span: AttemptSpan, at: number, outcome: AttemptOutcome, error: string | null) => {
    span.end = at;
    span.outcome = outcome;
    span.error = error;
    open.delete(span.step);
  };
  for (const event of events) {
    const at = Date.parse(event.at);
    const data = event.data ?? {};
    if (event.step_id === null) {
      if (event.kind === 'completed' || event.kind === 'failed' || event.kind === 'cancelled' || event.kind === 'revision_requested') {
        for (const span of [...open.values()]) close(span, at, 'stopped', null);
      }
      continue;
    }
    const current = open.get(event.step_id);
    switch (event.kind) {
      case 'dispatched': {
        if (current) close(current, at, 'stopped', null);
        const span: AttemptSpan = { step: event.step_id, attempt: num(data['attempt']) ?? 1, agent: str(data['agent']), start: at, end: null, outcome: 'running', error: null };
        spans.push(span);
        open.set(event.step_id, span);
        break;
      }
      case 'answered':
        if (current) close(current, at, data['status'] === 'COMPLETED' ? 'completed' : 'failed', str(data['error']));
        break;
      case 'timed_out':
        if (current) close(current, at, 'timed_out', `no answer within ${num(data['timeout_ms']) ?? '?'} ms`);
        break;
      case 'step_failed':
        if (current) close(current, at, 'failed', str(data['error']));
        break;
      default:
        break;
    }
  }
  return spans;
}

/** The events about one step: its own and, for a `for_each` step, its items'. */
export function eventsOfStep(events: readonly HistoryEvent[], step: string): HistoryEvent[] {
  return events.filter((event) => event.step_id !== null && (event.step_id === step || (!isItemKey(step) && planKey(event.step_id) === step && isItemKey(event.step_id))));
}
