import { Injectable, Logger } from '@nestjs/common';
import { TaskStatus } from '@orchestrator/contracts';
import { inTaskContext } from '../logging/log-context.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { databaseTrouble, isStatementError, sqlState, type DatabaseTrouble } from '../persistence/database-errors.js';
import { newRootRow, rootState, type NewTask, type NewWorkflow, type TaskRow } from '../persistence/task-rows.js';
import { TasksRepository } from '../persistence/tasks.repository.js';
import type { Changes, Closed, WorkflowTransaction } from '../persistence/workflow-transaction.js';
import { afterCommit, changesOf } from './batch-writes.js';
import { EffectRunner } from './effect-runner.js';
import type { Effect } from './effects.js';
import { TransitionRetries, type Trouble } from './transition-retries.js';
import { UnansweredCommit } from './unanswered-commit.js';
import { Workflow } from './workflow.js';
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
  /** Set once the job has met transient database trouble: since when, and its backoff. */
  trouble?: Trouble;
  /** Queue it again after this long (it met the database's trouble), not at once. */
  retryInMs?: number;
}

/** A workflow of the batch, the jobs applied to it, and how that went. */
interface Applied {
  wf: Workflow;
  jobs: QueuedJob[];
  results: unknown[];
  error?: unknown;
}

/** How a batch's transaction ended. */
type Ending = { committed: true; closed: Closed } | { committed: false; error: unknown };

/** A batch that was not ready to commit within TRANSITION_STALL_MS: rolled back, its jobs failed. */
export class TransitionStalledError extends Error {
  constructor(limitMs: number) {
    super(`the batch was not ready to commit within ${limitMs} ms (TRANSITION_STALL_MS); rolled back`);
    this.name = 'TransitionStalledError';
  }
}

/** `work`, or TransitionStalledError once `limitMs` has passed without it settling (what it settles to later is dropped). */
export async function withinStallLimit<T>(work: Promise<T>, limitMs: number): Promise<T> {
  if (limitMs <= 0) return work;
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransitionStalledError(limitMs)), limitMs);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, stalled]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Applies a batch of transitions in one transaction: each workflow's root locked, its rows read,
 * its jobs applied in memory, and every change written in a few statements for the whole batch;
 * the messages follow the commit. One workflow's trouble touches only that workflow: a job that
 * throws leaves its workflow out of the batch's writes, and a batch the database refuses is
 * applied again one job at a time, so that only the job that causes it fails. Trouble of the
 * database's own (a lost connection, a restart, a deadlock) is no job's fault: the jobs are
 * queued again after a backoff. A commit whose answer is lost is looked up before anything is
 * given back or applied again. Returns the jobs to queue again.
 */
@Injectable()
export class TransitionRunner {
  private readonly logger = new Logger(TransitionRunner.name);
  private readonly unanswered: UnansweredCommit;

  constructor(
    private readonly tasks: TasksRepository,
    private readonly caches: WorkflowCaches,
    private readonly effects: EffectRunner,
    private readonly metrics: MetricsService,
    private readonly retries: TransitionRetries,
  ) {
    this.unanswered = new UnansweredCommit(tasks, this.logger);
  }

  async run(batch: readonly QueuedJob[]): Promise<QueuedJob[]> {
    let applied: Applied[] = [];
    let detached: { job: QueuedJob; result: unknown }[] = [];
    let written: Workflow[] = [];
    const ending = await this.transaction(async (tx) => {
      ({ applied, detached } = await this.apply(tx, batch));
      written = applied.filter((one) => one.error === undefined).map((one) => one.wf);
      return changesOf(written);
    });
    if (!ending.committed) return this.failedBatch(batch, applied, ending.error);
    afterCommit(written, ending.closed);
    for (const { job, result } of detached) job.resolve(result);
    const done = applied.filter((one) => one.error === undefined);
    for (const one of done) one.jobs.forEach((queued, i) => queued.resolve(one.results[i]));
    this.cacheCommitted(written);
    // Not awaited: the batch's turn ends at its commit, whatever its messages wait for (NATS down, say).
    void this.effects.run(written.flatMap((wf) => wf.effects));
    const failed = applied.filter((one) => one.error !== undefined);
    this.giveBack(failed.map((one) => one.wf));
    return failed.flatMap((one) => {
      this.logger.warn(`a transition of ${one.wf.root.task_id} failed: ${describe(one.error)}`);
      const trouble = databaseTrouble(one.error);
      if (trouble) return this.later(one.jobs, trouble, one.error);
      return one.jobs.length > 1 || !one.jobs[0]?.job.alone ? one.jobs.map(alone) : this.rejectOrRetry(one.jobs, one.error);
    });
  }

  /**
   * Runs `work` in a transition's transaction and commits what it returns. When the commit goes
   * unanswered (the connection lost as it ran), asks the server whether it committed before
   * anything else is done; if it did, the rows a stop cancelled are read again.
   */
  private async transaction(work: (tx: WorkflowTransaction) => Promise<Changes>): Promise<Ending> {
    let opened: WorkflowTransaction | undefined;
    let changes: Changes | undefined;
    try {
      const closed = await this.tasks.transition(async (tx) => {
        opened = tx;
        changes = await withinStallLimit(work(tx), this.retries.stallLimitMs);
        return tx.close(changes);
      });
      return { committed: true, closed };
    } catch (error) {
      if (!opened?.commitSent || !changes || isStatementError(error)) return { committed: false, error };
      this.logger.warn(`the commit of a batch went unanswered (${describe(error)}); asking whether it committed`);
      if ((await this.unanswered.outcome(opened.xid)) === 'aborted') return { committed: false, error };
      const known = changes.update.map((row) => row.id).concat(changes.insert.map((row) => row.id));
      return { committed: true, closed: { stopped: await this.unanswered.stopped(changes, known), events: [] } };
    }
  }

  /** A batch that did not commit: its slots given back; its jobs queued again (later, for the database's own trouble), alone, or refused. */
  private failedBatch(batch: readonly QueuedJob[], applied: readonly Applied[], error: unknown): QueuedJob[] {
    this.metrics.errors.inc({ dependency: 'database' });
    this.giveBack(applied.map((one) => one.wf));
    const cause = causeOf(error, applied);
    const trouble = databaseTrouble(cause);
    if (trouble) {
      this.logger.warn(`a batch of ${batch.length} transitions met ${trouble} trouble (${describe(cause)}); trying it again`);
      return this.later(batch, trouble, cause);
    }
    if (batch.length > 1) {
      this.logger.warn(`a batch of ${batch.length} transitions failed (${describe(cause)}); applying each alone`);
      return batch.map(alone);
    }
    return this.rejectOrRetry(batch, cause);
  }

  /** Jobs to try again after their backoff; those that have tried long enough fail with the error. */
  private later(jobs: readonly QueuedJob[], kind: DatabaseTrouble, error: unknown): QueuedJob[] {
    return jobs.flatMap((queued) => {
      const trouble = this.retries.next(queued.trouble, kind);
      if (trouble) return [{ ...queued, trouble, retryInMs: trouble.backoff.duration }];
      queued.reject(error);
      return [];
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
    const fresh = this.newRoots(batch, now);
    const { roots, taken, cancelRequested, rows } = await tx.open({
      waitFor: [...waitFor],
      skipIfHeld: [...skipIfHeld],
      rootsOfRows: byRow,
      rowIds: [...interest],
      newTaskIds: fresh.map((one) => one.row.task_id),
      newRootIds: fresh.map((one) => one.row.id),
    });
    const created = new Map<QueuedJob, Workflow>();
    for (const { queued, row, workflow } of fresh) {
      if (taken.has(row.task_id)) continue;
      reads.createdWith(row.id, workflow.request.payload);
      const wf = new Workflow(rootState(row, now), workflow.plan, [], now, reads);
      wf.created = row;
      wf.startCancelled = cancelRequested.has(row.task_id);
      created.set(queued, wf);
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
  private newRoots(batch: readonly QueuedJob[], now: Date): { queued: QueuedJob; row: NewTask; workflow: NewWorkflow }[] {
    const fresh = new Map<string, { queued: QueuedJob; row: NewTask; workflow: NewWorkflow }>();
    for (const queued of batch) {
      const { target } = queued.job;
      if (target.kind !== 'new' || fresh.has(target.workflow.request.task_id)) continue;
      fresh.set(target.workflow.request.task_id, { queued, row: newRootRow(target.workflow, now), workflow: target.workflow });
    }
    return [...fresh.values()];
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

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The job queued again in a batch of its own. */
function alone(queued: QueuedJob): QueuedJob {
  return { ...queued, job: { ...queued.job, alone: true } };
}

/**
 * What failed a batch: a statement that follows a failed one only reports that the transaction
 * is aborted (25P02); the error of the workflow whose read failed first says why.
 */
function causeOf(error: unknown, applied: readonly Applied[]): unknown {
  if (sqlState(error) !== '25P02') return error;
  return applied.find((one) => sqlState(one.error) !== null || databaseTrouble(one.error) !== null)?.error ?? error;
}
