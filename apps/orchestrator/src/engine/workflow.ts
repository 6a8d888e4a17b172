import { TaskStatus, isTerminalStatus, type HistoryKind } from '@orchestrator/contracts';
import { isCurrentKey, itemIndex, planKey } from '../persistence/step-keys.js';
import { rowState, type NewTask, type RootRow, type TaskRow } from '../persistence/task-rows.js';
import type { ReplacedPlan, Plan, PlannedStep } from '../planning/plan.js';
import type { TemplateContext } from '../planning/template.js';
import type { StepProgress } from '../persistence/task.entity.js';
import type { KeptSignal, StopScope } from '../persistence/workflow-transaction.js';
import type { KeyGate } from './concurrency/key-gate.js';
import type { Effect } from './effects.js';
import { WorkflowSignals } from './workflow-signals.js';

/** What a transition may read beyond the rows it was given: loaded when first asked for, many workflows' asks in one query. */
export interface WorkflowReads {
  requestPayload(rootId: string): Promise<Record<string, unknown>>;
  result(rowId: string): Promise<Record<string, unknown> | null>;
  payload(rowId: string): Promise<Record<string, unknown>>;
  /** Item rows of a `for_each` step by key, with their inputs. */
  items(parentId: string, keys: readonly string[]): Promise<TaskRow[]>;
  /** The results of every item of a `for_each` step, in list order. */
  itemResults(parentId: string): Promise<unknown[]>;
  planHistory(rootId: string): Promise<ReplacedPlan[]>;
  /** The concurrency keys of the batch, locked and counted where a run starts or ends. */
  readonly gate: KeyGate;
  /** Signals kept for the workflow's steps (not taken yet), in the order they came. */
  keptSignals(rootId: string): Promise<KeptSignal[]>;
  signalSeen(rootId: string, signalId: string): Promise<boolean>;
  /** Events of this name kept since `since` whose fields contain `match`, oldest first. */
  keptEvents(event: string, since: Date, match: Record<string, unknown>): Promise<Record<string, unknown>[]>;
}

/** A slot taken on an agent by this transition: given back if the transition does not commit. */
export interface Reservation {
  agent: string;
  subtaskId: string;
}

/** A revised plan to store when the transition commits. */
export interface Revision {
  plan: Plan;
  history: ReplacedPlan[];
  /** The plan steps whose rows stay; every other row is retired under `retiredRevision`. */
  kept: string[];
  retiredRevision: number;
}

/** An event of the workflow's history, written with the transition's batch. */
export interface RecordedEvent {
  kind: HistoryKind;
  stepId: string | null;
  data: Record<string, unknown> | null;
}

/**
 * One workflow, locked, as a transition sees it: its root, the rows of its current plan's steps,
 * the other rows the event is about, and what the transition changes. Nothing is written until
 * the transition's batch commits; then the changed rows go in one statement with every other
 * workflow's.
 */
export class Workflow {
  /** The rows read or added, by id. */
  readonly rows = new Map<string, TaskRow>();
  /** The rows of the current plan's steps (not items), by step id. */
  readonly steps = new Map<string, TaskRow>();
  /** Item rows in memory, by `<parent id>/<key>`. */
  private readonly items = new Map<string, TaskRow>();
  /** Rows added by this transition, with their state as it is now (written in the insert, not after it). */
  readonly added = new Map<TaskRow, NewTask>();
  readonly effects: Effect[] = [];
  readonly reservations: Reservation[] = [];
  readonly dirty = new Set<TaskRow>();
  /** Unfinished rows to cancel in the database, beyond the ones in memory (a workflow's items, say). */
  readonly stops: StopScope[] = [];
  revision: Revision | null = null;
  /** What happened, in order: the history rows this transition adds. */
  readonly events: RecordedEvent[] = [];
  /** Progress reported by agents, to store on their rows. */
  readonly progress = new Map<string, StepProgress>();
  /** Signals received and signals taken by steps, written with the batch. */
  readonly signals: WorkflowSignals;
  /** A finished workflow runs again (a retry): its result and the mark of its final response sent are cleared. */
  reopened = false;
  /** The data templates read, built once per transition and kept up to date as steps complete. */
  private context: Promise<TemplateContext> | null = null;

  constructor(
    readonly root: RootRow,
    public plan: Plan,
    rows: readonly TaskRow[],
    readonly now: Date,
    readonly reads: WorkflowReads,
  ) {
    for (const row of rows) this.track(row);
    this.signals = new WorkflowSignals(root.id, reads);
  }

  private track(row: TaskRow): void {
    this.rows.set(row.id, row);
    if (row.parent_id === this.root.id && isCurrentKey(row.step_key)) this.steps.set(row.step_key, row);
    else if (row.parent_id !== null) this.items.set(`${row.parent_id}/${row.step_key}`, row);
  }

  get finished(): boolean {
    return isTerminalStatus(this.root.status);
  }

  /** A delayed workflow (`not_before`) that has not started: stored and planned, nothing runs until it starts. */
  get delayed(): boolean {
    return this.root.status === TaskStatus.Pending;
  }

  /** Waiting for the planner's revised plan: nothing runs until it comes. */
  get awaitingRevision(): boolean {
    return this.root.status === TaskStatus.Running && this.root.next_attempt_at !== null;
  }

  planned(row: TaskRow): PlannedStep {
    const key = planKey(row.step_key);
    const planned = this.plan.steps.find((step) => step.id === key);
    if (!planned) throw new Error(`the plan of workflow ${this.root.task_id} has no step "${key}"`);
    return planned;
  }

  /** The `for_each` step's row of an item row. */
  parentOf(item: TaskRow): TaskRow {
    const parent = item.parent_id === null ? undefined : this.rows.get(item.parent_id);
    if (!parent) throw new Error(`workflow ${this.root.task_id} has no row for the step of item "${item.step_key}"`);
    return parent;
  }

  /** Changes a row in memory; it is written back with the batch. */
  patch(row: TaskRow, patch: Partial<TaskRow>): void {
    Object.assign(row, patch);
    this.dirty.add(row);
  }

  /** Adds an event to the workflow's history; `stepId` null for the workflow itself. */
  record(kind: HistoryKind, stepId: string | null, data: Record<string, unknown> | null = null): void {
    this.events.push({ kind, stepId, data });
  }

  /** New rows, inserted with the batch. */
  add(rows: readonly NewTask[]): TaskRow[] {
    return rows.map((row) => {
      const state = rowState(row, this.now);
      this.added.set(state, row);
      this.track(state);
      return state;
    });
  }

  /** Item rows of a `for_each` step by key: those in memory, the others read. */
  async itemRows(parentId: string, keys: readonly string[]): Promise<TaskRow[]> {
    const missing = keys.filter((key) => !this.items.has(`${parentId}/${key}`));
    if (missing.length > 0) for (const row of await this.reads.items(parentId, missing)) this.track(row);
    return keys.flatMap((key) => this.items.get(`${parentId}/${key}`) ?? []);
  }

  /** The results of every item of a `for_each` step in list order, those this transition set included. */
  async itemResults(parentId: string): Promise<unknown[]> {
    const results = [...(await this.reads.itemResults(parentId))];
    for (const row of this.rows.values()) {
      if (row.parent_id === parentId && row.result !== undefined) results[itemIndex(row.step_key)] = row.result;
    }
    return results;
  }

  /** Replaces the plan-step rows seen from now on (a revised plan's). */
  forgetSteps(keep: ReadonlySet<string>): void {
    for (const key of [...this.steps.keys()]) if (!keep.has(key)) this.steps.delete(key);
  }

  templateContext(build: () => Promise<TemplateContext>): Promise<TemplateContext> {
    this.context ??= build();
    return this.context;
  }

  /** A step's result joins the data templates read, if that data was built already. */
  async addResult(stepId: string, result: Record<string, unknown>): Promise<void> {
    if (!this.context) return;
    // By copy: expressions keep the data they converted, by the objects it came from.
    const context = await this.context;
    context.steps = { ...context.steps, [stepId]: { result } };
  }

  /** The data changed in a way `addResult` cannot follow (a revision). */
  dropContext(): void {
    this.context = null;
  }
}
