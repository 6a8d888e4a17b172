import { Injectable, Logger } from '@nestjs/common';
import { TaskStatus, type HistoryBatch } from '@orchestrator/contracts';
import { inTaskContext } from '../logging/log-context.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { subtaskWireId } from '../persistence/step-keys.js';
import { newRootRow, rootState, type NewTask, type NewWorkflow, type TaskRow } from '../persistence/task-rows.js';
import { TasksRepository } from '../persistence/tasks.repository.js';
import type { InsertedEvent, NewEvent, WorkflowTransaction } from '../persistence/workflow-transaction.js';
import { EffectRunner } from './effect-runner.js';
import type { Effect } from './effects.js';
import { Workflow, type RecordedEvent } from './workflow.js';
import { BatchReads, WorkflowCaches } from './workflow-reads.js';

/** How a job's workflow is found: an existing one by its root or by one of its rows, or a new one. */
export type JobTarget =
  | { kind: 'root'; rootId: string; skipLocked: boolean }
  | { kind: 'row'; rowId: string }
  | { kind: 'new'; workflow: NewWorkflow };

/** One transition to apply to one workflow, in a batch with others. */
export interface TransitionJob<T> {
  target: JobTarget;
  /** Rows it reads besides the current plan's steps (the answered or due ones). */
  rows?: readonly string[];
  /** The transition, on its locked workflow; null when there is none (unknown, held by another replica, or its task_id taken). */
  apply(wf: Workflow | null): Promise<T>;
  /** What to do instead when this job alone cannot be applied (an answer the database refuses becomes a failed attempt). */
  rejected?(reason: string): TransitionJob<T>;
  /** In a batch of its own: its first batch failed. */
  alone?: boolean;
  /**
   * Applied after the jobs before it in the batch have been (others run side by side): jobs that
   * compete for agents' slots take them in the order they were queued (the sweeper's priority order).
   */
  ordered?: boolean;
}

export interface QueuedJob {
  job: TransitionJob<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** A workflow of the batch, the jobs applied to it, and how that went. */
interface Applied {
  wf: Workflow;
  jobs: QueuedJob[];
  results: unknown[];
  error?: unknown;
}

/**
 * Applies a batch of transitions in one transaction: each workflow's root locked, its rows read,
 * its jobs applied in memory, and every change written in a few statements for the whole batch;
 * the messages follow the commit. One workflow's trouble touches only that workflow: a job that
 * throws leaves its workflow out of the batch's writes, and a batch the database refuses is
 * applied again one job at a time, so that only the job that causes it fails. Returns the jobs to
 * queue again.
 */
@Injectable()
export class TransitionRunner {
  private readonly logger = new Logger(TransitionRunner.name);

  constructor(
    private readonly tasks: TasksRepository,
    private readonly caches: WorkflowCaches,
    private readonly effects: EffectRunner,
    private readonly metrics: MetricsService,
  ) {}

  async run(batch: readonly QueuedJob[]): Promise<QueuedJob[]> {
    let applied: Applied[] = [];
    let detached: { job: QueuedJob; result: unknown }[] = [];
    try {
      await this.tasks.transition(async (tx) => {
        ({ applied, detached } = await this.apply(tx, batch));
        await this.write(tx, applied.filter((one) => one.error === undefined));
      });
    } catch (error) {
      this.metrics.errors.inc({ dependency: 'database' });
      this.giveBack(applied.map((one) => one.wf));
      if (batch.length > 1) {
        this.logger.warn(`a batch of ${batch.length} transitions failed (${(error as Error).message}); applying each alone`);
        return batch.map((queued) => ({ ...queued, job: { ...queued.job, alone: true } }));
      }
      return this.rejectOrRetry(batch, error);
    }
    for (const { job, result } of detached) job.resolve(result);
    const done = applied.filter((one) => one.error === undefined);
    for (const one of done) one.jobs.forEach((queued, i) => queued.resolve(one.results[i]));
    this.cacheCommitted(done.map((one) => one.wf));
    await this.effects.run(done.flatMap((one) => one.wf.effects));
    const failed = applied.filter((one) => one.error !== undefined);
    this.giveBack(failed.map((one) => one.wf));
    return failed.flatMap((one) => {
      this.logger.warn(`a transition of ${one.wf.root.task_id} failed: ${(one.error as Error).message}`);
      return one.jobs.length > 1 || !one.jobs[0]?.job.alone
        ? one.jobs.map((queued) => ({ ...queued, job: { ...queued.job, alone: true } }))
        : this.rejectOrRetry(one.jobs, one.error);
    });
  }

  /** A job that failed alone: its `rejected` form is queued instead, or it fails. */
  private rejectOrRetry(jobs: readonly QueuedJob[], error: unknown): QueuedJob[] {
    return jobs.flatMap((queued) => {
      const rejected = queued.job.rejected?.(describe(error));
      if (rejected) return [{ ...queued, job: { ...rejected, alone: true } }];
      queued.reject(error);
      return [];
    });
  }

  private async apply(tx: WorkflowTransaction, batch: readonly QueuedJob[]): Promise<{ applied: Applied[]; detached: { job: QueuedJob; result: unknown }[] }> {
    const now = new Date();
    const reads = new BatchReads(tx, this.caches);
    const waitFor = new Set<string>();
    const skipIfHeld = new Set<string>();
    const byRow: string[] = [];
    const interest = new Set<string>();
    for (const { job } of batch) {
      if (job.target.kind === 'root') (job.target.skipLocked ? skipIfHeld : waitFor).add(job.target.rootId);
      if (job.target.kind === 'row') byRow.push(job.target.rowId);
      for (const id of job.rows ?? []) interest.add(id);
    }
    for (const id of waitFor) skipIfHeld.delete(id);
    for (const id of byRow) interest.add(id);
    const { fresh, newRoots } = this.newRoots(batch, now);
    const { roots, inserted, rows } = await tx.open({
      waitFor: [...waitFor],
      skipIfHeld: [...skipIfHeld],
      rootsOfRows: byRow,
      rowIds: [...interest],
      newRoots,
    });
    const created = new Map<QueuedJob, Workflow>();
    for (const { queued, row, workflow } of fresh) {
      if (!inserted.has(row.id)) continue;
      this.caches.rememberPayload(row.id, workflow.request.payload);
      created.set(queued, new Workflow(rootState(row, now), workflow.plan, [], now, reads));
    }
    const rowsOf = new Map<string, TaskRow[]>();
    for (const row of rows) {
      const list = rowsOf.get(row.root_id);
      if (list) list.push(row);
      else rowsOf.set(row.root_id, [row]);
    }
    const workflows = new Map<string, Workflow>();
    await Promise.all(
      roots.map(async (root) => workflows.set(root.id, new Workflow(root, await reads.plan(root.id, root.plan_revision), rowsOf.get(root.id) ?? [], now, reads))),
    );
    reads.gate.join([...workflows.values(), ...created.values()]);
    const rootOfRow = new Map(rows.map((row) => [row.id, row.root_id]));

    const groups = new Map<Workflow, QueuedJob[]>();
    const detachedJobs: QueuedJob[] = [];
    for (const queued of batch) {
      const { target } = queued.job;
      const wf =
        target.kind === 'root' ? workflows.get(target.rootId)
        : target.kind === 'row' ? workflows.get(rootOfRow.get(target.rowId) ?? '')
        : created.get(queued);
      const jobs = wf ? groups.get(wf) : undefined;
      if (!wf) detachedJobs.push(queued);
      else if (jobs) jobs.push(queued);
      else groups.set(wf, [queued]);
    }

    const applyAll = async ([wf, jobs]: [Workflow, QueuedJob[]]): Promise<Applied> => {
      const one: Applied = { wf, jobs, results: [] };
      try {
        await inTaskContext(wf.root.task_id, async () => {
          for (const { job } of jobs) one.results.push(await job.apply(wf));
        });
      } catch (error) {
        one.error = error;
      }
      return one;
    };
    const [inTurn, together] = partition([...groups], ([, jobs]) => jobs.some((queued) => queued.job.ordered));
    const applied = await Promise.all(together.map(applyAll));
    for (const group of inTurn) applied.push(await applyAll(group));
    const detached = await Promise.all(detachedJobs.map(async (job) => ({ job, result: await job.job.apply(null) })));
    return { applied, detached };
  }

  /** The roots of the new workflows of a batch, one per task_id (a second job with the same task_id gets no workflow). */
  private newRoots(batch: readonly QueuedJob[], now: Date): { fresh: { queued: QueuedJob; row: NewTask; workflow: NewWorkflow }[]; newRoots: NewTask[] } {
    const fresh = new Map<string, { queued: QueuedJob; row: NewTask; workflow: NewWorkflow }>();
    for (const queued of batch) {
      const { target } = queued.job;
      if (target.kind !== 'new' || fresh.has(target.workflow.request.task_id)) continue;
      fresh.set(target.workflow.request.task_id, { queued, row: newRootRow(target.workflow, now), workflow: target.workflow });
    }
    return { fresh: [...fresh.values()], newRoots: [...fresh.values()].map((one) => one.row) };
  }

  /**
   * Writes what the workflows changed: rows added (in the state they reached, so a row sent in the
   * transition that made it is written once), rows changed, revised plans, and the unfinished rows
   * of stopped workflows cancelled; the agents of those that ran are told.
   */
  private async write(tx: WorkflowTransaction, applied: readonly Applied[]): Promise<void> {
    const insert: NewTask[] = [];
    const update: TaskRow[] = [];
    for (const { wf } of applied) {
      for (const [state, row] of wf.added) insert.push(withState(row, state));
      for (const row of wf.dirty) if (!wf.added.has(row)) update.push(row);
    }
    const revisions = applied.flatMap(({ wf }) => (wf.revision ? [{ rootId: wf.root.id, ...wf.revision }] : []));
    const events = applied.flatMap(({ wf }) => wf.events.map((event) => newEvent(wf, event)));
    const progress = applied.flatMap(({ wf }) => [...wf.progress].map(([id, value]) => ({ id, progress: value })));
    const reopened = applied.flatMap(({ wf }) => (wf.reopened ? [wf.root.id] : []));
    const signals = { insert: applied.flatMap(({ wf }) => wf.signals.inserted), take: applied.flatMap(({ wf }) => wf.signals.taken) };
    const { stopped, events: inserted } = await tx.close({
      update,
      insert,
      revisions,
      stops: applied.flatMap(({ wf }) => wf.stops),
      events,
      progress,
      reopened,
      signals,
      now: applied[0]?.wf.now ?? new Date(),
    });
    let at = 0;
    for (const { wf } of applied) {
      const rows = inserted.slice(at, at + wf.events.length);
      at += wf.events.length;
      if (rows.length > 0) wf.effects.push({ kind: 'history', batch: historyBatch(wf, rows) });
    }
    for (const { wf } of applied) if (wf.revision) wf.root.plan_revision = wf.revision.plan.revision ?? 1;
    const byRoot = new Map(applied.map(({ wf }) => [wf.root.id, wf]));
    for (const row of stopped) {
      const wf = byRoot.get(row.root_id);
      if (!wf || !row.agent_name) continue;
      const subtaskId = subtaskWireId(row.id, row.attempts);
      wf.effects.push({ kind: 'cancel', agent: row.agent_name, subtaskId }, { kind: 'release', agent: row.agent_name, subtaskId });
    }
  }

  /**
   * Slots taken by transitions that did not commit are given back; steps of other workflows they
   * popped from their lines into slots are dispatched all the same.
   */
  private giveBack(workflows: readonly Workflow[]): void {
    const release: Effect[] = workflows.flatMap((wf) => [
      ...wf.reservations.map((slot) => ({ kind: 'release' as const, ...slot })),
      ...wf.effects.filter((effect) => effect.kind === 'claimed'),
    ]);
    if (release.length > 0) void this.effects.run(release);
  }

  /** What the commit made permanent and transitions read again: plans, step results. */
  private cacheCommitted(workflows: readonly Workflow[]): void {
    for (const wf of workflows) {
      this.caches.plans.set(this.caches.planKey(wf.root.id, wf.root.plan_revision), wf.plan);
      for (const row of wf.dirty) {
        if (row.status === TaskStatus.Completed && row.result && row.parent_id !== null) this.caches.rememberResult(row.id, row.result);
      }
    }
  }
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

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
