import { Injectable, Logger } from '@nestjs/common';
import { HistoryKind, TaskStatus } from '@orchestrator/contracts';
import { MetricsService } from '../../metrics/metrics.service.js';
import { isItemRow, itemIndex, subtaskWireId } from '../../persistence/step-keys.js';
import type { TaskRow } from '../../persistence/task-rows.js';
import { evaluate } from '../../planning/template.js';
import { PlanningService } from '../../planning/planning.service.js';
import { encodeJson, MessagePublisher } from '../../transport/message-publisher.js';
import { retryDelayMs } from '../backoff.js';
import { attemptsText, decide } from '../decide.js';
import type { Workflow } from '../workflow.js';
import { finalResult, partialResult, progressOf, templateContext } from '../workflow-view.js';
import { RunSlots } from '../concurrency/run-slots.js';
import { ForEachSteps } from './for-each-steps.js';
import { StepDispatcher } from './step-dispatcher.js';
import { subtasksOverBound } from './subtask-bound.js';
import type { StepOutcome } from './step-kind.js';
import { StepKinds } from './step-kinds.js';

/** Why an attempt ended without an answer that counts. */
export type AttemptEnd = 'answered' | 'timed-out';

/**
 * How the steps of a workflow move: the next ready steps start, an attempt completes or fails, a
 * step fails for good, the workflow ends. Every transition kind is made of these; none writes to
 * the database itself (the batch does, after).
 */
@Injectable()
export class StepTransitions {
  private readonly logger = new Logger(StepTransitions.name);

  constructor(
    private readonly dispatcher: StepDispatcher,
    private readonly forEach: ForEachSteps,
    private readonly planning: PlanningService,
    private readonly publisher: MessagePublisher,
    private readonly metrics: MetricsService,
    private readonly slots: RunSlots,
    private readonly kinds: StepKinds,
  ) {}

  /** Starts the steps that became ready, or ends the workflow when nothing is left to do. */
  async advance(wf: Workflow): Promise<void> {
    // A QUEUED run waits for its concurrency key, a delayed one for its time: nothing of it moves until it starts.
    if (wf.finished || wf.awaitingRevision || wf.delayed || wf.root.status === TaskStatus.Queued) return;
    for (;;) {
      for (const step of wf.steps.values()) {
        if (step.item_count !== null && step.status === TaskStatus.Running) await this.advanceItems(wf, step);
      }
      const decision = decide(wf.plan, wf.steps);
      switch (decision.outcome.kind) {
        case 'failed': {
          const step = decision.outcome.step;
          // Attempts are counted for steps sent to an agent; a `for_each` step counts them per item.
          const attempts = step.attempts === 0 ? '' : ` ${attemptsText(step.attempts)}`;
          const error = `step "${step.step_key}" (${this.kinds.of(wf.planned(step)).label(step)}) failed${attempts}: ${step.error ?? 'no error given'}`;
          if (this.mayRevise(wf)) this.awaitRevision(wf, error);
          else await this.failWorkflow(wf, error, step);
          return;
        }
        case 'completed':
          await this.completeWorkflow(wf);
          return;
        case 'running':
          if (decision.ready.length === 0) return;
          for (const step of decision.ready) {
            if (wf.finished) return;
            await this.start(wf, step);
          }
      }
    }
  }

  /** A step whose prerequisites are settled: skipped when its `when` is false, expanded when it has `for_each`, else started as its kind starts. */
  private async start(wf: Workflow, step: TaskRow): Promise<void> {
    const planned = wf.planned(step);
    if (planned.when !== undefined) {
      let go: unknown;
      try {
        go = evaluate(planned.when, await templateContext(wf));
        if (typeof go !== 'boolean') throw new Error(`gave ${JSON.stringify(go)}, not true or false`);
      } catch (error) {
        await this.failForGood(wf, step, `when: ${(error as Error).message}`);
        return;
      }
      if (!go) {
        this.metrics.skippedSteps.inc();
        wf.record(HistoryKind.Skipped, step.step_key, { when: planned.when });
        await this.complete(wf, step, { skipped: true, reason: `when is false: ${planned.when}` }, false);
        return;
      }
    }
    if (planned.for_each !== undefined) {
      const expanded = await this.forEach.expand(wf, step, planned, planned.for_each);
      if (expanded.kind === 'failed') {
        await this.failForGood(wf, step, expanded.error);
        return;
      }
      wf.record(HistoryKind.Expanded, step.step_key, { items: step.item_count });
      const over = subtasksOverBound(wf);
      if (over) await this.failWorkflow(wf, over, step);
      return;
    }
    await this.settle(wf, step, await this.kinds.of(planned).start(wf, step, planned));
  }

  /** A row's due time has passed: what that means is its kind's to say (an attempt's deadline, a wait's timeout, a sleep's end). */
  async due(wf: Workflow, row: TaskRow): Promise<void> {
    if (row.status !== TaskStatus.Running && row.status !== TaskStatus.Waiting) return;
    const planned = wf.planned(row);
    await this.settle(wf, row, await this.kinds.of(planned).due(wf, row, planned));
  }

  /** A WAITING step got what it waited for (a signal, an event): it completes with it as its result. */
  async resume(wf: Workflow, row: TaskRow, result: Record<string, unknown>, data: Record<string, unknown>): Promise<void> {
    wf.record(HistoryKind.StepCompleted, row.step_key, data);
    await this.complete(wf, row, result, false);
  }

  /** Applies what a step's kind made of it. */
  private async settle(wf: Workflow, row: TaskRow, outcome: StepOutcome): Promise<void> {
    switch (outcome.kind) {
      case 'started':
        // A step that began to wait shows as WAITING to those who follow the workflow.
        if (row.status === TaskStatus.Waiting && wf.dirty.has(row)) this.progress(wf, row);
        return;
      case 'completed':
        await this.complete(wf, row, outcome.result, false);
        return;
      case 'failed':
        await this.failForGood(wf, row, outcome.error);
        return;
      case 'attempt-failed':
        await this.failAttempt(wf, row, outcome.error, 'timed-out');
    }
  }

  /** Moves a running `for_each` step on: its next items are sent, or it completes with every item's result. */
  private async advanceItems(wf: Workflow, step: TaskRow): Promise<void> {
    const next = await this.forEach.next(wf, step);
    switch (next.kind) {
      case 'wait':
        return;
      case 'complete':
        await this.complete(wf, step, { items: next.results }, false);
        wf.record(HistoryKind.StepCompleted, step.step_key, { items: next.results.length });
        return;
      case 'start':
        for (const item of next.items) await this.send(wf, item, item.payload ?? {}, false);
    }
  }

  /** Sends the next attempt of a row with this input; a row that can never be sent fails for good. */
  async send(wf: Workflow, row: TaskRow, input: Record<string, unknown>, storeInput: boolean): Promise<void> {
    const outcome = await this.dispatcher.dispatch(wf, row, input, storeInput);
    if (outcome.kind === 'refused') await this.failForGood(wf, row, outcome.error);
  }

  /** Sends a row due for dispatch again: a retry, or a step that waited for an agent. */
  async resend(wf: Workflow, row: TaskRow): Promise<void> {
    // An item's input was built when its list was expanded, a step's at its first attempt.
    if (isItemRow(row) || row.attempts > 0) {
      await this.send(wf, row, row.payload ?? (await wf.reads.payload(row.id)), false);
      return;
    }
    await this.start(wf, row);
  }

  /** An attempt (or a skipped step, `attempt` false) completed with `result`. */
  async complete(wf: Workflow, row: TaskRow, result: Record<string, unknown>, attempt = true): Promise<void> {
    if (attempt) this.releaseSlot(wf, row);
    wf.patch(row, {
      status: TaskStatus.Completed,
      result,
      error: null,
      deadline_at: null,
      next_attempt_at: null,
      waiting_on: null,
      started_at: row.started_at ?? wf.now,
      completed_at: wf.now,
    });
    this.progress(wf, row);
    if (isItemRow(row)) {
      const parent = wf.parentOf(row);
      wf.patch(parent, { items_done: parent.items_done + 1 });
    } else {
      await wf.addResult(row.step_key, result);
    }
  }

  /** An attempt failed: it is tried again after its backoff while attempts remain, else the row fails for good. */
  async failAttempt(wf: Workflow, row: TaskRow, error: string, end: AttemptEnd): Promise<void> {
    const planned = wf.planned(row);
    // An agent that did not answer in time may still be working: told to stop before any retry is sent.
    if (end === 'timed-out' && row.agent_name) wf.effects.push({ kind: 'cancel', agent: row.agent_name, subtaskId: subtaskWireId(row.id, row.attempts) });
    this.releaseSlot(wf, row);
    // A row's attempts go on counting when its workflow is retried: its own max_attempts says how far.
    if (row.attempts < row.max_attempts) {
      const delay = retryDelayMs(planned.backoff, row.attempts - (row.max_attempts - planned.max_attempts));
      this.logger.log(`step ${row.step_key} of ${wf.root.task_id} failed attempt ${row.attempts}, retry in ${delay} ms: ${error}`);
      this.metrics.retries.inc({ agent: row.agent_name ?? 'unknown' });
      wf.patch(row, { status: TaskStatus.Pending, error, deadline_at: null, next_attempt_at: new Date(wf.now.getTime() + delay) });
      wf.record(HistoryKind.Retried, row.step_key, { attempt: row.attempts + 1, backoff_ms: delay, error });
      return;
    }
    await this.failForGood(wf, row, error);
  }

  /**
   * A row fails for good: no attempt is left, or trying again would meet the same problem. The one
   * way a step or item fails; an item's failure fails its `for_each` step and stops its other items.
   */
  async failForGood(wf: Workflow, row: TaskRow, error: string): Promise<void> {
    wf.patch(row, { status: TaskStatus.Failed, error, next_attempt_at: null, deadline_at: null, waiting_on: null, completed_at: wf.now });
    wf.record(HistoryKind.StepFailed, row.step_key, { error });
    this.progress(wf, row);
    if (!isItemRow(row)) return;
    const parent = wf.parentOf(row);
    if (parent.status !== TaskStatus.Running) return;
    this.stop(wf, parent.id, false, `step ${parent.step_key} failed`);
    const attempts = row.attempts === 0 ? '' : ` ${attemptsText(row.attempts)}`;
    await this.failForGood(wf, parent, `item ${itemIndex(row.step_key)} of ${parent.item_count ?? '?'} failed${attempts}: ${error}`);
  }

  /** Ends the workflow with every step's result and its declared output. */
  async completeWorkflow(wf: Workflow): Promise<void> {
    let result: Awaited<ReturnType<typeof finalResult>>;
    try {
      result = await finalResult(wf);
    } catch (error) {
      await this.failWorkflow(wf, `output: ${(error as Error).message}`);
      return;
    }
    // The output must reach the requester in one message; the per-step results may be left out (aggregation).
    const outputBytes = encodeJson(result.output).length;
    if (outputBytes > this.publisher.maxBody) {
      await this.failWorkflow(wf, `output: ${outputBytes} bytes; the NATS server takes messages of at most ${this.publisher.maxPayload} bytes (GET /tasks/${wf.root.task_id} has it)`);
      return;
    }
    await this.finish(wf, TaskStatus.Completed, result, null);
  }

  /** Fails the workflow: what still runs is cancelled and told so, steps not started never will be. */
  async failWorkflow(wf: Workflow, error: string, failedStep?: TaskRow): Promise<void> {
    await this.finish(wf, TaskStatus.Failed, await partialResult(wf, failedStep), error);
  }

  async cancelWorkflow(wf: Workflow, reason = 'cancelled by request'): Promise<void> {
    await this.finish(wf, TaskStatus.Cancelled, await partialResult(wf), reason);
  }

  private async finish(wf: Workflow, status: TaskStatus, result: Record<string, unknown>, error: string | null): Promise<void> {
    const reason = status === TaskStatus.Cancelled ? 'workflow cancelled' : `workflow failed: ${error ?? ''}`;
    this.stop(wf, wf.root.id, true, reason);
    wf.patch(wf.root, { status, result, error, deadline_at: null, next_attempt_at: null, completed_at: wf.now });
    wf.record(finishKind(status), null, error === null ? null : { error });
    wf.effects.push({ kind: 'finish', root: wf.root });
    // Its slot of its concurrency key frees: the next QUEUED run of the key may start.
    await this.slots.released(wf);
  }

  /** True when the plan asks for revisions after a failure and has some left. */
  private mayRevise(wf: Workflow): boolean {
    const policy = wf.plan.replan;
    return !!policy && (wf.plan.revision ?? 1) - 1 < policy.max_revisions && this.planning.hasPlanner();
  }

  /**
   * A step failed for good in a plan that may be revised: what still runs is stopped, and the
   * workflow waits for the planner, durably (`next_attempt_at` on the root: if this replica dies,
   * the sweeper of another asks again once it is due).
   */
  private awaitRevision(wf: Workflow, error: string): void {
    this.logger.log(`${error}; asking ${wf.root.task_id}'s planner for revision ${(wf.plan.revision ?? 1) + 1}`);
    this.stop(wf, wf.root.id, true, `re-planning: ${error}`);
    wf.patch(wf.root, { next_attempt_at: wf.now, error });
    wf.record(HistoryKind.RevisionRequested, null, { error, revision: (wf.plan.revision ?? 1) + 1 });
    wf.effects.push({ kind: 'revise', rootId: wf.root.id });
  }

  /**
   * Cancels the unfinished rows of a workflow (`whole`) or of a `for_each` step: those in memory
   * now; running ones are told and free their slots. Rows not in memory (the items of a running
   * `for_each` step, or what `everywhere` asks to look for) are cancelled in the database when the
   * batch is written.
   */
  stop(wf: Workflow, scopeId: string, whole: boolean, reason: string, everywhere = false): void {
    let hidden = !whole || everywhere;
    for (const row of wf.rows.values()) {
      const inScope = whole ? row.parent_id !== null : row.parent_id === scopeId;
      if (!inScope || (row.status !== TaskStatus.Running && row.status !== TaskStatus.Pending && row.status !== TaskStatus.Waiting)) continue;
      if (row.item_count !== null && row.status === TaskStatus.Running) hidden = true;
      // A step waiting in line leaves it.
      if (row.status === TaskStatus.Pending && row.waiting_on !== null) {
        wf.effects.push({ kind: 'unqueue', queue: row.waiting_on, member: subtaskWireId(row.id, row.attempts + 1) });
      }
      if (row.status === TaskStatus.Running && row.agent_name && row.item_count === null) {
        const subtaskId = subtaskWireId(row.id, row.attempts);
        // Sent in this very transition: not sent at all.
        const unsent = wf.effects.findIndex((effect) => effect.kind === 'dispatch' && effect.subtaskId === subtaskId);
        if (unsent >= 0) wf.effects.splice(unsent, 1);
        else wf.effects.push({ kind: 'cancel', agent: row.agent_name, subtaskId });
        this.releaseSlot(wf, row);
      }
      wf.patch(row, {
        status: TaskStatus.Cancelled,
        error: row.status === TaskStatus.Running || row.status === TaskStatus.Waiting ? reason : row.error,
        next_attempt_at: null,
        deadline_at: null,
        waiting_on: null,
        queue_rank: null,
        completed_at: wf.now,
      });
    }
    if (hidden) wf.stops.push({ id: scopeId, whole, reason });
  }

  /** The attempt of a RUNNING row ends: its slot on the agent is freed after the commit. */
  private releaseSlot(wf: Workflow, row: TaskRow): void {
    if (row.status === TaskStatus.Running && row.agent_name && row.item_count === null) {
      wf.effects.push({ kind: 'release', agent: row.agent_name, subtaskId: subtaskWireId(row.id, row.attempts) });
    }
  }

  private progress(wf: Workflow, row: TaskRow): void {
    wf.effects.push({ kind: 'progress', taskId: wf.root.task_id, stepKey: row.step_key, status: row.status, ...progressOf(wf) });
  }
}

function finishKind(status: TaskStatus): HistoryKind {
  switch (status) {
    case TaskStatus.Completed:
      return HistoryKind.Completed;
    case TaskStatus.Cancelled:
      return HistoryKind.Cancelled;
    case TaskStatus.Failed:
    case TaskStatus.Pending:
    case TaskStatus.Queued:
    case TaskStatus.Running:
    case TaskStatus.Waiting:
      return HistoryKind.Failed;
  }
}
