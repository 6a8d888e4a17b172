import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import {
  isPlainObject,
  isTerminalStatus,
  nowSeconds,
  ORCHESTRATOR_AGENT_NAME,
  TaskEvent,
  taskEventSubject,
  TaskStatus,
  failedResponse,
  type TaskPriority,
  type TaskRequest,
  type TaskResponse,
} from '@orchestrator/contracts';
import { AggregationService, templateContext } from '../aggregation/aggregation.service.js';
import { AgentRouter } from '../delegation/agent-router.service.js';
import { DelegationService } from '../delegation/delegation.service.js';
import { isItemRow, type TaskEntity } from '../persistence/task.entity.js';
import { TasksRepository, type NewTask, type TasksTransaction } from '../persistence/tasks.repository.js';
import type { RevisionRequest } from '../planning/dynamic-planner.service.js';
import type { Plan, PlannedStep, ReplacedPlan } from '../planning/plan.js';
import { evaluate, resolveTemplate } from '../planning/template.js';
import { PlanningError } from '../planning/planning.errors.js';
import { LIMITS } from '../planning/workflow-definition.js';
import { PlanningService } from '../planning/planning.service.js';
import { MessagePublisher } from '../transport/message-publisher.js';
import { retryDelayMs } from './backoff.js';
import type { Effect } from './effects.js';
import { inTaskContext } from '../logging/log-context.js';
import { childTraceparent } from '../tracing/trace-context.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { EngineStats } from './engine-stats.js';
import { SweepSignal } from './sweep-signal.js';
import {
  attemptsText,
  countProgress,
  decide,
  hasBeenScheduled,
  itemIndex,
  itemKey,
  parseSubtaskWireId,
  planKey,
  subtaskWireId,
} from './workflow-state.js';

const ROOT_OF_STEP_ENTRIES = 100_000;
const MAX_ANSWERS_PER_TRANSACTION = 200;

interface InboxItem {
  response: TaskResponse;
  via: string;
  resolve: (agent: string | null) => void;
  reject: (error: unknown) => void;
}
/** Steps that waited on a busy agent within this time may still be waiting somewhere. */
const RECENT_WAIT_MS = 30_000;

export type SubmitResult = { created: true; root: TaskEntity } | { created: false; root: TaskEntity };

/** One workflow, locked, as a transition sees it. */
interface Workflow {
  tx: TasksTransaction;
  root: TaskEntity;
  plan: Plan;
  steps: TaskEntity[];
  now: Date;
  effects: Effect[];
  /** Agents that were at capacity when a step of this workflow wanted one. */
  blockedOn: Set<string>;
  /** Rows changed by the transition, written back before it commits. */
  dirty: Set<TaskEntity>;
}

/**
 * The state machine of workflows. Every transition runs in one transaction under the root row's
 * lock, so replicas never race on a workflow; messages are published after the commit.
 */
@Injectable()
export class WorkflowEngine {
  private readonly logger = new Logger(WorkflowEngine.name);
  private readonly inbox: InboxItem[] = [];
  private draining = false;
  /** The workflow of each sub-task this replica dispatched, to skip a query when its answer comes. */
  private readonly rootOfStep = new Map<string, string>();
  /** Workflows this replica is asking the planner to revise right now. */
  private readonly revising = new Set<string>();
  /** When a step last had to wait for a busy agent; freed slots wake the sweeper only while that is recent. */
  private lastCapacityWait = 0;

  constructor(
    private readonly tasks: TasksRepository,
    private readonly planning: PlanningService,
    private readonly delegation: DelegationService,
    private readonly router: AgentRouter,
    private readonly aggregation: AggregationService,
    private readonly publisher: MessagePublisher,
    private readonly wake: SweepSignal,
    private readonly stats: EngineStats,
    private readonly metrics: MetricsService,
  ) {}

  /** Plans and starts a workflow, or returns the existing one with the same `task_id`. Throws PlanningError. */
  async submit(request: TaskRequest, replyTo: string | undefined, traceparent: string | null = null): Promise<SubmitResult> {
    if (this.planning.isDynamic(request.task_type)) {
      // Asking a planner costs time: a repeated task_id is answered before that.
      const existing = await this.tasks.findRootByTaskId(request.task_id);
      if (existing) return { created: false, root: existing };
    }
    const plan = await this.planning.plan(request);
    const now = new Date();
    const rootId = randomUUID();
    const root: TaskEntity = {
      ...this.newRow(rootId, null, rootId, request.task_type, request.priority),
      task_id: request.task_id,
      status: TaskStatus.Running,
      payload: request.payload,
      requester_id: request.requester_id ?? null,
      reply_to: replyTo ?? null,
      plan,
      trace_parent: traceparent,
      started_at: now,
      deadline_at: workflowDeadline(now, plan.timeout_ms, request.timeout_ms),
      created_at: now,
      updated_at: now,
      response_sent_at: null,
    };
    const steps = this.stepRows(plan.steps, rootId, request.priority, now);
    const effects: Effect[] = [];
    const created = await this.tasks.transaction(async (tx) => {
      if (!(await tx.insertRootIfAbsent(root))) return false;
      await tx.insertSteps(steps);
      const wf: Workflow = { tx, root, plan, steps, now, effects, blockedOn: new Set(), dirty: new Set() };
      await inTaskContext(root.task_id, () => this.advance(wf));
      await tx.writeBack([...wf.dirty]);
      return true;
    });
    if (!created) {
      const existing = await this.tasks.findRootByTaskId(request.task_id);
      if (!existing) throw new Error(`task ${request.task_id} vanished while being submitted`);
      return { created: false, root: existing };
    }
    this.stats.workflowsStarted += 1;
    this.metrics.workflowsStarted.inc({ task_type: root.task_type });
    const event = { task_id: root.task_id, task_type: root.task_type, status: TaskStatus.Running, ts: nowSeconds() };
    this.publisher.publish(taskEventSubject(TaskEvent.Created), event);
    this.publisher.publish(taskEventSubject(TaskEvent.Started), event);
    await this.runEffects(effects);
    return { created: true, root };
  }

  /**
   * NATS had no subscriber for a sub-task: a failed attempt now rather than at its deadline, and
   * the agent is taken out of routing until it announces itself again.
   */
  async applyNoResponders(subtaskId: string): Promise<void> {
    const agent = await this.applyResponse(failedResponse(subtaskId, 'no agent is subscribed to its task subject (no responders)'), 'no-responders');
    if (agent) await this.router.forget(agent);
  }

  /**
   * Applies an agent's answer to a sub-task attempt; returns the agent of the attempt it applied to.
   * Unknown, late and duplicate answers are dropped.
   */
  applyResponse(response: TaskResponse, via: string): Promise<string | null> {
    return new Promise((resolve, reject) => {
      this.inbox.push({ response, via, resolve, reject });
      void this.drainInbox();
    });
  }

  /**
   * Answers that arrive while a batch is being applied wait and go together in the next one: one
   * transaction (and one commit) for many answers under load, and no added delay when idle.
   */
  private async drainInbox(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.inbox.length > 0) {
        const batch = this.inbox.splice(0, MAX_ANSWERS_PER_TRANSACTION);
        try {
          const agents = await this.applyBatch(batch);
          batch.forEach((item, i) => item.resolve(agents[i] ?? null));
        } catch (error) {
          for (const item of batch) item.reject(error);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Applies answers in one transaction; returns, for each, the agent of the attempt it applied to. */
  private async applyBatch(batch: readonly InboxItem[]): Promise<(string | null)[]> {
    const refs = batch.map(({ response, via }) => {
      const ref = parseSubtaskWireId(response.task_id);
      if (!ref) this.logger.debug(`dropped a response on ${via} for ${JSON.stringify(response.task_id)}: not a sub-task id`);
      return ref;
    });
    const unknown = refs.flatMap((ref) => (ref && !this.rootOfStep.has(ref.stepId) ? [ref.stepId] : []));
    const found = unknown.length > 0 ? await this.tasks.findRootIdsOfSteps(unknown) : new Map<string, string>();
    const rootIds = refs.map((ref) => (ref ? (this.rootOfStep.get(ref.stepId) ?? found.get(ref.stepId) ?? null) : null));
    const agents: (string | null)[] = batch.map(() => null);
    const effects = await this.tasks.transaction(async (tx) => {
      const locked = await tx.lockWorkflows([...new Set(rootIds.filter((id): id is string => id !== null))]);
      const now = new Date();
      const workflows = new Map<string, Workflow>();
      for (const { root, steps } of locked.values()) {
        if (root.plan) workflows.set(root.id, { tx, root, plan: root.plan, steps, now, effects: [], blockedOn: new Set(), dirty: new Set() });
      }
      for (const [i, { response, via }] of batch.entries()) {
        const ref = refs[i];
        const wf = workflows.get(rootIds[i] ?? '');
        if (!ref) continue;
        if (!wf) {
          this.logger.warn(`dropped a response on ${via} for unknown sub-task ${response.task_id}`);
          continue;
        }
        agents[i] = await inTaskContext(wf.root.task_id, () => this.applyOne(wf, ref, response, via));
      }
      const all = [...workflows.values()];
      await tx.writeBack(all.flatMap((wf) => [...wf.dirty]));
      return all.flatMap((wf) => wf.effects);
    });
    await this.runEffects(effects);
    return agents;
  }

  private async applyOne(wf: Workflow, ref: { stepId: string; attempt: number }, response: TaskResponse, via: string): Promise<string | null> {
    if (isTerminalStatus(wf.root.status)) {
      this.stats.responsesDropped += 1;
      this.metrics.responsesDropped.inc();
      this.logger.log(`dropped a late or duplicate ${response.status} response on ${via} for ${response.task_id} (workflow is ${wf.root.status})`);
      return null;
    }
    const step = wf.steps.find((s) => s.id === ref.stepId);
    if (!step || step.status !== TaskStatus.Running || step.attempts !== ref.attempt) {
      this.stats.responsesDropped += 1;
      this.metrics.responsesDropped.inc();
      this.logger.log(
        `dropped a late or duplicate ${response.status} response on ${via} for ${response.task_id} (step is ${step?.status ?? 'unknown'}, attempt ${step?.attempts ?? '-'})`,
      );
      return null;
    }
    const agent = step.agent_name;
    if (response.status === TaskStatus.Completed || response.status === TaskStatus.Failed || response.status === TaskStatus.Cancelled) {
      // The row was last written when this attempt was dispatched.
      this.metrics.stepDuration.observe({ agent: agent ?? 'unknown', outcome: response.status }, (wf.now.getTime() - step.updated_at.getTime()) / 1000);
    }
    switch (response.status) {
      case TaskStatus.Pending:
      case TaskStatus.Running:
        return null;
      case TaskStatus.Completed:
        this.stats.responsesApplied += 1;
        this.releaseSlot(wf, step);
        this.patch(wf, step, { status: TaskStatus.Completed, result: response.result ?? {}, error: null, deadline_at: null, completed_at: wf.now });
        this.progress(wf, step);
        break;
      case TaskStatus.Failed:
      case TaskStatus.Cancelled:
        this.stats.responsesApplied += 1;
        this.failAttempt(wf, step, response.error ?? `agent answered ${response.status} without an error`);
        break;
    }
    await this.advance(wf);
    return agent;
  }


  /**
   * Handles what time has made due in one workflow: passed deadlines and due retries. Skips a
   * workflow another replica holds; it stays due and comes round again.
   */
  /** Returns the agents found at capacity while doing it. */
  async sweepWorkflow(rootId: string): Promise<string[]> {
    let blocked: string[] = [];
    const effects = await this.inWorkflow(rootId, true, async (wf) => {
      if (isTerminalStatus(wf.root.status)) return;
      if (wf.root.deadline_at && wf.root.deadline_at <= wf.now) {
        const allowed = wf.root.deadline_at.getTime() - (wf.root.started_at ?? wf.root.created_at).getTime();
        this.failWorkflow(wf, `workflow timed out after ${allowed} ms`);
        return;
      }
      if (wf.root.next_attempt_at) {
        // Waiting for a revised plan: ask now if nobody is (the replica that was asking died).
        if (wf.root.next_attempt_at <= wf.now) wf.effects.push({ kind: 'revise', rootId: wf.root.id });
        return;
      }
      for (const step of wf.steps) {
        if (step.status === TaskStatus.Running && step.deadline_at && step.deadline_at <= wf.now) {
          const planned = this.plannedStep(wf.plan, step);
          this.metrics.timeouts.inc({ agent: step.agent_name ?? 'unknown' });
          this.failAttempt(wf, step, `agent ${step.agent_name ?? '?'} did not answer within ${planned.timeout_ms} ms`);
        }
      }
      for (const step of wf.steps) {
        if (step.status === TaskStatus.Pending && step.next_attempt_at && step.next_attempt_at <= wf.now) {
          await this.dispatchStep(wf, step);
        }
      }
      await this.advance(wf);
      blocked = [...wf.blockedOn];
    });
    if (effects) await this.runEffects(effects);
    return blocked;
  }

  /**
   * Cancels a workflow: running sub-tasks are told, steps not started never will be, and the
   * requester gets a CANCELLED response. A finished workflow is left as it is.
   */
  async cancel(taskId: string): Promise<{ cancelled: boolean; root: TaskEntity } | null> {
    const root = await this.tasks.findRootByTaskId(taskId);
    if (!root) return null;
    let cancelled = false;
    const effects = await this.inWorkflow(root.id, false, (wf) => {
      if (isTerminalStatus(wf.root.status)) return;
      this.stopUnfinishedSteps(wf, 'workflow cancelled');
      this.finish(wf, { status: TaskStatus.Cancelled, result: this.aggregation.partialResult(wf.steps), error: 'cancelled by request' });
      cancelled = true;
    });
    if (effects) await this.runEffects(effects);
    return { cancelled, root: (await this.tasks.findRootByTaskId(taskId)) ?? root };
  }

  /** Sends the final responses that were committed but never marked sent (the sender died). */
  async resendUnsentResponses(olderThanMs: number, limit: number): Promise<number> {
    return this.tasks.transaction(async (tx) => {
      const roots = await tx.lockUnsentResponses(new Date(Date.now() - olderThanMs), limit);
      for (const root of roots) this.aggregation.sendFinal(root);
      await this.publisher.flush();
      await tx.markResponsesSent(roots.map((root) => root.id));
      return roots.length;
    });
  }

  /** Runs `work` on a locked workflow. Null when the row is gone or locked (skipLocked); `work` sees finished workflows too. */
  private async inWorkflow(
    rootId: string,
    skipLocked: boolean,
    work: (wf: Workflow) => Promise<void> | void,
  ): Promise<Effect[] | null> {
    return this.tasks.transaction(async (tx) => {
      const locked = await tx.lockWorkflow(rootId, skipLocked);
      if (!locked?.root.plan) return null;
      const { root, steps } = locked;
      const wf: Workflow = { tx, root, plan: locked.root.plan, steps, now: new Date(), effects: [], blockedOn: new Set(), dirty: new Set() };
      await inTaskContext(root.task_id, () => work(wf));
      await tx.writeBack([...wf.dirty]);
      return wf.effects;
    });
  }

  /** Dispatches the steps that became ready, or ends the workflow when nothing is left to do. */
  private async advance(wf: Workflow): Promise<void> {
    // A workflow waiting for a revised plan has nothing to run until it comes.
    if (wf.root.next_attempt_at !== null) return;
    for (;;) {
      await this.advanceForEach(wf);
      const decision = decide(wf.plan, wf.steps);
      switch (decision.outcome.kind) {
        case 'failed': {
          const step = decision.outcome.step;
          // Attempts are counted for steps sent to an agent; a `for_each` step counts them per item.
          const attempts = step.attempts === 0 ? '' : ` ${attemptsText(step.attempts)}`;
          const error = `step "${step.step_key ?? ''}" (agent ${step.agent_name ?? '?'}) failed${attempts}: ${step.error ?? 'no error given'}`;
          if (this.mayRevise(wf)) this.awaitRevision(wf, error);
          else this.failWorkflow(wf, error, step);
          return;
        }
        case 'completed':
          this.completeWorkflow(wf);
          return;
        case 'running':
          if (decision.ready.length === 0) return;
          for (const step of decision.ready) await this.startStep(wf, step);
      }
    }
  }

  /** A step whose prerequisites are settled: skipped when its `when` is false, expanded when it has `for_each`, else sent. */
  private async startStep(wf: Workflow, step: TaskEntity): Promise<void> {
    const planned = this.plannedStep(wf.plan, step);
    if (planned.when !== undefined) {
      let go: unknown;
      try {
        go = evaluate(planned.when, templateContext(wf.root, wf.steps));
        if (typeof go !== 'boolean') throw new Error(`gave ${JSON.stringify(go)}, not true or false`);
      } catch (error) {
        this.failAtOnce(wf, step, `when: ${(error as Error).message}`);
        return;
      }
      if (!go) {
        this.metrics.skippedSteps.inc();
        this.patch(wf, step, { status: TaskStatus.Completed, result: { skipped: true, reason: `when is false: ${planned.when}` }, started_at: wf.now, completed_at: wf.now });
        this.progress(wf, step);
        return;
      }
    }
    if (planned.for_each !== undefined) await this.expand(wf, step, planned, planned.for_each);
    else await this.dispatchStep(wf, step);
  }

  /** Evaluates a `for_each` step's list and adds one row per item, each with its input built; the items are sent by advanceForEach. */
  private async expand(wf: Workflow, step: TaskEntity, planned: PlannedStep, forEach: string): Promise<void> {
    const context = templateContext(wf.root, wf.steps);
    let inputs: Record<string, unknown>[];
    try {
      const list = evaluate(forEach, context);
      if (!Array.isArray(list)) throw new Error(`gave ${list === null ? 'null' : typeof list}, not a list`);
      if (list.length > LIMITS.forEachMaxItems) throw new Error(`gave ${list.length} items; at most ${LIMITS.forEachMaxItems} are allowed`);
      inputs = list.map((item: unknown, index) => {
        const input = resolveTemplate(planned.input, { ...context, item, index });
        if (!isPlainObject(input)) throw new Error(`the input of item ${index} must resolve to a JSON object`);
        return input;
      });
    } catch (error) {
      this.failAtOnce(wf, step, `for_each: ${(error as Error).message}`);
      return;
    }
    const items = inputs.map((input, index) => ({
      ...this.stepRow(planned, itemKey(planned.id, index), step.id, wf.root.id, wf.root.priority, wf.now),
      payload: input,
    }));
    if (items.length > 0) await wf.tx.insertSteps(items);
    wf.steps.push(...items);
    this.patch(wf, step, { status: TaskStatus.Running, payload: { items: items.length }, started_at: wf.now });
  }

  /**
   * Moves each running `for_each` step on: it fails when an item fails for good, completes with
   * the items' results in list order when all are done, and otherwise keeps up to `concurrency`
   * items in flight, taking them in list order.
   */
  private async advanceForEach(wf: Workflow): Promise<void> {
    for (const planned of wf.plan.steps) {
      if (planned.for_each === undefined) continue;
      const step = stepRowOf(wf, planned.id);
      if (step?.status !== TaskStatus.Running) continue;
      const items = wf.steps.filter((row) => row.parent_id === step.id).sort((a, b) => itemIndex(a.step_key ?? '') - itemIndex(b.step_key ?? ''));
      const failed = items.find((item) => item.status === TaskStatus.Failed);
      if (failed) {
        this.stopUnfinishedSteps(wf, `step ${planned.id} failed`, items);
        this.failAtOnce(wf, step, `item ${itemIndex(failed.step_key ?? '')} of ${items.length} failed ${attemptsText(failed.attempts)}: ${failed.error ?? 'no error given'}`);
        continue;
      }
      if (items.every((item) => item.status === TaskStatus.Completed)) {
        this.patch(wf, step, { status: TaskStatus.Completed, result: { items: items.map((item) => item.result) }, completed_at: wf.now });
        this.progress(wf, step);
        continue;
      }
      let inFlight = items.filter((item) => item.status === TaskStatus.Running || (item.status === TaskStatus.Pending && hasBeenScheduled(item))).length;
      for (const item of items) {
        if (inFlight >= (planned.concurrency ?? LIMITS.concurrency.default)) break;
        if (item.status !== TaskStatus.Pending || hasBeenScheduled(item)) continue;
        await this.dispatchStep(wf, item);
        inFlight += 1;
      }
    }
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
    this.stopUnfinishedSteps(wf, `re-planning: ${error}`);
    this.patch(wf, wf.root, { next_attempt_at: wf.now, error });
    wf.effects.push({ kind: 'revise', rootId: wf.root.id });
  }

  /**
   * Asks the planner for a revised plan of a workflow waiting for one and runs it, or fails the
   * workflow when none comes. The question is asked outside any transaction; a lease on the root
   * (`next_attempt_at`) keeps other replicas from asking at the same time.
   */
  async revise(rootId: string): Promise<void> {
    if (this.revising.has(rootId)) return;
    this.revising.add(rootId);
    try {
      let asked: { request: TaskRequest; revision: RevisionRequest; lease: number } | undefined;
      await this.inWorkflow(rootId, true, (wf) => {
        if (wf.root.status !== TaskStatus.Running || !wf.root.next_attempt_at || wf.root.next_attempt_at > wf.now) return;
        const lease = wf.now.getTime() + this.planning.revisionLeaseMs();
        this.patch(wf, wf.root, { next_attempt_at: new Date(lease) });
        asked = { request: requestOf(wf.root), revision: this.revisionRequest(wf), lease };
      });
      if (!asked) return;
      const { request, revision, lease } = asked;
      let revised: Plan | undefined;
      let refusal = '';
      try {
        revised = await this.planning.revise(request, revision);
      } catch (error) {
        if (!(error instanceof PlanningError)) throw error;
        refusal = error.message;
      }
      const effects = await this.inWorkflow(rootId, false, async (wf) => {
        // Cancelled, timed out or taken over by another replica meanwhile: not ours to change.
        if (wf.root.status !== TaskStatus.Running || wf.root.next_attempt_at?.getTime() !== lease) return;
        if (!revised) {
          this.metrics.revisions.inc({ outcome: 'refused' });
          this.failWorkflow(wf, `${wf.root.error ?? 'a step failed'}; re-planning failed: ${refusal}`);
          return;
        }
        this.metrics.revisions.inc({ outcome: 'applied' });
        await this.applyRevision(wf, revised, revision);
        await this.advance(wf);
      });
      if (effects) await this.runEffects(effects);
    } finally {
      this.revising.delete(rootId);
    }
  }

  /** What the planner is told: the plan, what finished, and what failed. */
  private revisionRequest(wf: Workflow): RevisionRequest {
    const completed: Record<string, unknown> = {};
    let failed: RevisionRequest['failed'] = { step: '', agent: null, error: wf.root.error ?? '' };
    for (const planned of wf.plan.steps) {
      const row = stepRowOf(wf, planned.id);
      if (row?.status === TaskStatus.Completed) completed[planned.id] = row.result;
      else if (row?.status === TaskStatus.Failed && !planned.optional && failed.step === '') {
        failed = { step: planned.id, agent: row.agent_name, error: row.error ?? 'no error given' };
      }
    }
    return { revision: (wf.plan.revision ?? 1) + 1, plan: wf.plan, completed, failed };
  }

  /**
   * Runs a revised plan: the finished steps stay as they are, every other row is renamed out of
   * the way (`<step>@<revision>`, kept for the record), the revision's steps get rows, and the plan
   * it replaces goes to the history.
   */
  private async applyRevision(wf: Workflow, revised: Plan, revision: RevisionRequest): Promise<void> {
    const old = wf.plan;
    const oldRevision = old.revision ?? 1;
    const kept = old.steps.filter((planned) => planned.id in revision.completed);
    const keptIds = new Set(kept.map((planned) => planned.id));
    const renames: { id: string; step_key: string }[] = [];
    for (const row of wf.steps) {
      const key = row.step_key ?? '';
      if (keptIds.has(planKey(key))) continue;
      row.step_key = `${key}@${oldRevision}`;
      renames.push({ id: row.id, step_key: row.step_key });
    }
    await wf.tx.renameSteps(renames);
    const plan: Plan = { ...old, revision: revision.revision, steps: [...kept, ...revised.steps], output: revised.output };
    const history: ReplacedPlan[] = [
      ...(wf.root.plan_history ?? []),
      { plan: old, failed_step: revision.failed.step, error: wf.root.error ?? revision.failed.error, replaced_at: wf.now.toISOString() },
    ];
    await wf.tx.replacePlan(wf.root.id, plan, history);
    const rows = this.stepRows(revised.steps, wf.root.id, wf.root.priority, wf.now);
    await wf.tx.insertSteps(rows);
    wf.steps.push(...rows);
    wf.plan = plan;
    wf.root.plan = plan;
    wf.root.plan_history = history;
    this.patch(wf, wf.root, { next_attempt_at: null, error: null });
    this.logger.log(`${wf.root.task_id} runs revision ${revision.revision} of its plan: ${rows.length} new steps, ${kept.length} kept`);
  }

  /** A step that cannot run fails at once: trying again would meet the same problem. */
  private failAtOnce(wf: Workflow, step: TaskEntity, error: string): void {
    this.patch(wf, step, { status: TaskStatus.Failed, error, next_attempt_at: null, deadline_at: null, completed_at: wf.now });
    this.progress(wf, step);
  }

  private async dispatchStep(wf: Workflow, step: TaskEntity): Promise<void> {
    const planned = this.plannedStep(wf.plan, step);
    let input: unknown;
    try {
      // An item's input was built when its list was expanded.
      input = isItemRow(step) ? step.payload : resolveTemplate(planned.input, templateContext(wf.root, wf.steps));
      if (!isPlainObject(input)) throw new Error('the step input must resolve to a JSON object');
    } catch (error) {
      // A step whose input cannot be built fails at once: retrying would build the same input.
      this.patch(wf, step, {
        status: TaskStatus.Failed,
        error: `input: ${(error as Error).message}`,
        next_attempt_at: null,
        completed_at: wf.now,
      });
      return;
    }
    const attempt = step.attempts + 1;
    const deadline = new Date(wf.now.getTime() + planned.timeout_ms);
    const previous = step.attempts > 0 ? step.agent_name : null;
    const route = await this.router.route(planned, attempt, previous, subtaskWireId(step.id, attempt), deadline.getTime());
    if (route.kind === 'wait') {
      // Waiting is not an attempt. For a slot on a busy agent it lasts as long as it takes (the
      // workflow's deadline bounds it); with no agent able to do the step, at most its timeout.
      const waitingUntil = route.why === 'no-candidate' ? (step.deadline_at ?? deadline) : null;
      if (waitingUntil !== null && waitingUntil <= wf.now) {
        this.patch(wf, step, { status: TaskStatus.Failed, error: route.reason, next_attempt_at: null, deadline_at: null, completed_at: wf.now });
        return;
      }
      // Due at once: waiting steps are taken in priority order whenever the sweeper runs (at its
      // interval, and as soon as a slot comes free), so a later CRITICAL step passes earlier LOW ones.
      this.patch(wf, step, { next_attempt_at: step.next_attempt_at ?? wf.now, deadline_at: waitingUntil });
      if (route.why === 'at-capacity') {
        for (const agent of route.agents) wf.blockedOn.add(agent);
        this.lastCapacityWait = Date.now();
        this.metrics.capacityWaits.inc();
      }
      return;
    }
    const agent = route.agent;
    this.rootOfStep.set(step.id, wf.root.id);
    if (this.rootOfStep.size > ROOT_OF_STEP_ENTRIES) {
      const oldest = this.rootOfStep.keys().next();
      if (!oldest.done) this.rootOfStep.delete(oldest.value);
    }
    this.patch(wf, step, {
      status: TaskStatus.Running,
      attempts: attempt,
      agent_name: agent,
      payload: input,
      next_attempt_at: null,
      deadline_at: deadline,
      started_at: step.started_at ?? wf.now,
    });
    wf.effects.push({
      kind: 'dispatch',
      agent,
      attempt,
      rootTaskId: wf.root.task_id,
      stepKey: planned.id,
      traceparent: childTraceparent(wf.root.trace_parent, `dispatch ${planned.id}`),
      request: {
        task_id: subtaskWireId(step.id, attempt),
        task_type: planned.task_type,
        payload: input,
        priority: wf.root.priority,
        requester_id: ORCHESTRATOR_AGENT_NAME,
        created_at: wf.now.getTime() / 1000,
      },
    });
  }

  /** Records a failed attempt: a retry at a due time while attempts remain, else the step fails. */
  private failAttempt(wf: Workflow, step: TaskEntity, error: string): void {
    const planned = this.plannedStep(wf.plan, step);
    this.releaseSlot(wf, step);
    if (step.attempts < planned.max_attempts) {
      const delay = retryDelayMs(planned.backoff, step.attempts);
      this.logger.log(`step ${planned.id} of ${wf.root.task_id} failed attempt ${step.attempts}, retry in ${delay} ms: ${error}`);
      this.metrics.retries.inc({ agent: step.agent_name ?? 'unknown' });
      this.patch(wf, step, {
        status: TaskStatus.Pending,
        error,
        deadline_at: null,
        next_attempt_at: new Date(wf.now.getTime() + delay),
      });
    } else {
      this.patch(wf, step, { status: TaskStatus.Failed, error, deadline_at: null, completed_at: wf.now });
      this.progress(wf, step);
    }
  }

  private completeWorkflow(wf: Workflow): void {
    let result: Record<string, unknown>;
    try {
      result = this.aggregation.finalResult(wf.plan, wf.root, wf.steps);
    } catch (error) {
      this.failWorkflow(wf, `output: ${(error as Error).message}`);
      return;
    }
    this.finish(wf, { status: TaskStatus.Completed, result, error: null });
  }

  /** Fails the workflow: steps still running are cancelled and told so, steps not started never will be. */
  private failWorkflow(wf: Workflow, error: string, failedStep?: TaskEntity): void {
    this.stopUnfinishedSteps(wf, `workflow failed: ${error}`);
    const result = this.aggregation.partialResult(wf.steps, failedStep);
    this.finish(wf, { status: TaskStatus.Failed, result, error });
  }

  private stopUnfinishedSteps(wf: Workflow, reason: string, rows: readonly TaskEntity[] = wf.steps): void {
    for (const step of rows) {
      if (step.status === TaskStatus.Running && step.agent_name) {
        wf.effects.push({ kind: 'cancel', agent: step.agent_name, subtaskId: subtaskWireId(step.id, step.attempts) });
        this.releaseSlot(wf, step);
      }
      if (step.status === TaskStatus.Running || step.status === TaskStatus.Pending) {
        this.patch(wf, step, {
          status: TaskStatus.Cancelled,
          error: step.status === TaskStatus.Running ? reason : step.error,
          next_attempt_at: null,
          deadline_at: null,
          completed_at: wf.now,
        });
      }
    }
  }

  private finish(
    wf: Workflow,
    outcome: Pick<TaskEntity, 'status' | 'result' | 'error'>,
  ): void {
    for (const step of wf.steps) this.rootOfStep.delete(step.id);
    this.patch(wf, wf.root, { ...outcome, deadline_at: null, next_attempt_at: null, completed_at: wf.now });
    wf.effects.push({ kind: 'finish', root: wf.root });
  }

  /** Changes a row in memory; the transition writes every changed row back in one statement. */
  private patch(wf: Workflow, step: TaskEntity, patch: Partial<TaskEntity>): void {
    Object.assign(step, patch);
    wf.dirty.add(step);
  }

  /** The attempt of a RUNNING step ends: its slot on the agent is freed after the commit. */
  private releaseSlot(wf: Workflow, step: TaskEntity): void {
    if (step.status === TaskStatus.Running && step.agent_name) {
      wf.effects.push({ kind: 'release', agent: step.agent_name, subtaskId: subtaskWireId(step.id, step.attempts) });
    }
  }

  private progress(wf: Workflow, step: TaskEntity): void {
    wf.effects.push({ kind: 'progress', root: wf.root, stepKey: step.step_key ?? '', status: step.status, ...countProgress(wf.steps) });
  }

  private plannedStep(plan: Plan, step: TaskEntity): PlannedStep {
    const key = planKey(step.step_key ?? '');
    const planned = plan.steps.find((s) => s.id === key);
    if (!planned) throw new Error(`plan of workflow ${step.root_id} has no step "${step.step_key ?? ''}"`);
    return planned;
  }

  /** New rows for planned steps, not yet scheduled. */
  private stepRows(planned: readonly PlannedStep[], rootId: string, priority: TaskPriority, now: Date): TaskEntity[] {
    return planned.map((step) => this.stepRow(step, step.id, rootId, rootId, priority, now));
  }

  /** A new row for a planned step (parent: the root) or one item of it (parent: the step's row). */
  private stepRow(planned: PlannedStep, key: string, parentId: string, rootId: string, priority: TaskPriority, now: Date): TaskEntity {
    return {
      ...this.newRow(randomUUID(), parentId, rootId, planned.task_type, priority),
      step_key: key,
      agent_name: planned.agent,
      max_attempts: planned.max_attempts,
      requester_id: ORCHESTRATOR_AGENT_NAME,
      created_at: now,
      updated_at: now,
      response_sent_at: null,
    };
  }

  private newRow(id: string, parentId: string | null, rootId: string, taskType: string, priority: TaskPriority): NewTask {
    return {
      id,
      task_id: id,
      parent_id: parentId,
      root_id: rootId,
      task_type: taskType,
      step_key: null,
      agent_name: null,
      status: TaskStatus.Pending,
      priority,
      attempts: 0,
      max_attempts: 1,
      next_attempt_at: null,
      deadline_at: null,
      payload: {},
      result: null,
      error: null,
      requester_id: null,
      reply_to: null,
      plan: null,
      plan_history: null,
      trace_parent: null,
      started_at: null,
      completed_at: null,
    };
  }

  private async runEffects(effects: Effect[]): Promise<void> {
    const finished: TaskEntity[] = [];
    const released: Promise<void>[] = [];
    for (const effect of effects) {
      switch (effect.kind) {
        case 'release':
          released.push(this.router.release(effect.agent, effect.subtaskId));
          break;
        case 'dispatch':
          this.stats.subtasksDispatched += 1;
          this.delegation.dispatch(effect);
          break;
        case 'cancel':
          this.delegation.cancel(effect.agent, effect.subtaskId);
          break;
        case 'progress':
          this.publisher.publish(taskEventSubject(TaskEvent.Progress), {
            task_id: effect.root.task_id,
            step: effect.stepKey,
            status: effect.status,
            done: effect.done,
            total: effect.total,
            ts: nowSeconds(),
          });
          break;
        case 'revise':
          void this.revise(effect.rootId).catch((error: unknown) => {
            // The root stays due: the sweeper asks again once the lease has passed.
            this.logger.error(`revising the plan of workflow ${effect.rootId} failed: ${(error as Error).message}`);
          });
          break;
        case 'finish':
          this.stats.workflowsFinished += 1;
          this.metrics.workflowsFinished.inc({ task_type: effect.root.task_type, status: effect.root.status });
          this.aggregation.sendFinal(effect.root);
          finished.push(effect.root);
          break;
      }
    }
    if (released.length > 0) {
      await Promise.all(released);
      // A slot came free: steps waiting for one need not wait for the next sweep.
      if (Date.now() - this.lastCapacityWait < RECENT_WAIT_MS) this.wake.raise();
    }
    if (finished.length > 0) {
      // Marked sent as soon as the bytes are on their way: while connected, the client writes them
      // to the socket before the UPDATE's round trip ends, and a killed process's socket still
      // delivers them. While disconnected they wait in memory, so wait until they reach the server.
      if (!this.publisher.connected) await this.publisher.flush();
      await this.tasks.markResponsesSent(finished.map((root) => root.id));
    }
  }
}

function workflowDeadline(now: Date, planTimeoutMs: number | null, requestTimeoutMs: number | undefined): Date | null {
  const limits = [planTimeoutMs, requestTimeoutMs ?? null].filter((ms): ms is number => ms !== null);
  return limits.length === 0 ? null : new Date(now.getTime() + Math.min(...limits));
}

/** The request a workflow was started with, as the planner is shown it. */
function requestOf(root: TaskEntity): TaskRequest {
  return { task_id: root.task_id, task_type: root.task_type, payload: root.payload, priority: root.priority };
}

/** The row of a plan step (not of one of its items). */
function stepRowOf(wf: Workflow, stepId: string): TaskEntity | undefined {
  return wf.steps.find((row) => row.step_key === stepId && !isItemRow(row));
}
