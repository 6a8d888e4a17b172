import { Injectable, Logger } from '@nestjs/common';
import { failedResponse, isTerminalStatus, type TaskRequest, type TaskResponse } from '@orchestrator/contracts';
import { AgentRouter } from '../delegation/agent-router.service.js';
import type { Claim } from '../delegation/dispatch-queue.service.js';
import { AggregationService } from '../aggregation/aggregation.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { parseSubtaskWireId } from '../persistence/step-keys.js';
import type { TaskEntity } from '../persistence/task.entity.js';
import type { DueWorkflow } from '../persistence/tasks.repository.js';
import { TasksRepository } from '../persistence/tasks.repository.js';
import { PlanningError } from '../planning/planning.errors.js';
import type { Plan } from '../planning/plan.js';
import { PlanningService } from '../planning/planning.service.js';
import { evaluate } from '../planning/template.js';
import { MessagePublisher } from '../transport/message-publisher.js';
import { HistoryPublisher } from './history-publisher.js';
import { RevisionSignal } from './revision-signal.js';
import { ClaimSignal } from './claim-signal.js';
import { ClaimTransition } from './transitions/claim.transition.js';
import { TransitionQueue } from './transition-queue.js';
import type { TransitionJob } from './transition-runner.js';
import { AnswerTransition, type Answer } from './transitions/answer.transition.js';
import { CancelTransition } from './transitions/cancel.transition.js';
import { ProgressTransition, type ProgressOutcome, type ProgressReportIn } from './transitions/progress.transition.js';
import { RetryTransition, type RetryOutcome } from './transitions/retry.transition.js';
import { RevisionTransition, type RevisionOutcome } from './transitions/revision.transition.js';
import { SubmitTransition } from './transitions/submit.transition.js';
import { SweepTransition } from './transitions/sweep.transition.js';
import { EventShapes } from './waits/event-shapes.js';

/** How a workflow is started, besides its request. */
export interface WorkflowStart {
  /** Where the final response goes besides `agent.<requester_id>.response`. */
  replyTo?: string | null;
  /** The W3C trace context the request came with. */
  traceparent?: string | null;
  /** 1 for a request from outside, more for a workflow a `workflow:` step runs. */
  depth?: number;
  /** What makes a repeat of this request the same request (stored, to tell another request under the same task_id). */
  fingerprint?: string | null;
  /** The task_id of the task this one runs again (a rerun), for its history. */
  rerunOf?: string | null;
  /** The key its steps take turns by when its plan names none (a child workflow takes its parent's). */
  fairnessKey?: string | null;
}

/** The longest fairness key kept. */
const MAX_FAIRNESS_KEY = 200;

/** The key a workflow's steps take turns by, from its plan's `fairness.key` over the request; null when it has none. Throws PlanningError. */
function fairnessKeyOf(plan: Plan, request: TaskRequest): string | null {
  if (!plan.fairness_key) return null;
  let value: unknown;
  try {
    value = evaluate(plan.fairness_key, { request: { task_id: request.task_id, task_type: request.task_type, priority: request.priority, payload: request.payload }, steps: {} });
  } catch (error) {
    throw new PlanningError('INVALID_PAYLOAD', `fairness.key: ${(error as Error).message}`);
  }
  const key = typeof value === 'string' ? value : JSON.stringify(value);
  return key.slice(0, MAX_FAIRNESS_KEY);
}

export type SubmitResult = { created: true; root: TaskEntity } | { created: false; root: TaskEntity };

/**
 * The engine's entry points: each turns an event (a request, an answer, due work, a cancellation,
 * a revised plan) into a transition job and waits for the batch that applies it to commit.
 */
@Injectable()
export class WorkflowEngine {
  private readonly logger = new Logger(WorkflowEngine.name);
  /** Workflows this replica is asking the planner to revise right now. */
  private readonly revising = new Set<string>();

  constructor(
    private readonly queue: TransitionQueue,
    private readonly tasks: TasksRepository,
    private readonly planning: PlanningService,
    private readonly router: AgentRouter,
    private readonly aggregation: AggregationService,
    private readonly publisher: MessagePublisher,
    private readonly submitTransition: SubmitTransition,
    private readonly answerTransition: AnswerTransition,
    private readonly sweepTransition: SweepTransition,
    private readonly cancelTransition: CancelTransition,
    private readonly revisionTransition: RevisionTransition,
    private readonly retryTransition: RetryTransition,
    private readonly progressTransition: ProgressTransition,
    private readonly metrics: MetricsService,
    private readonly history: HistoryPublisher,
    private readonly claimTransition: ClaimTransition,
    private readonly eventShapes: EventShapes,
    revisions: RevisionSignal,
    claims: ClaimSignal,
  ) {
    claims.listen((popped) => void this.dispatchClaimed(popped));
    revisions.listen((rootId) => {
      this.revise(rootId).catch((error: unknown) => {
        // The root stays due: the sweeper asks again once the lease has passed.
        this.logger.error(`revising the plan of workflow ${rootId} failed: ${(error as Error).message}`);
      });
    });
  }

  /**
   * Plans and starts a workflow, or returns the existing one with the same `task_id` (the caller
   * compares its `request_hash` with the request's `fingerprint`). Throws PlanningError.
   */
  async submit(request: TaskRequest, start: WorkflowStart): Promise<SubmitResult> {
    const { replyTo = null, traceparent = null, depth = 1, fingerprint = null, rerunOf = null } = start;
    if (this.planning.isDynamic(request.task_type)) {
      // Asking a planner costs time: a repeated task_id is answered before that.
      const existing = await this.tasks.findRootByTaskId(request.task_id);
      if (existing) return { created: false, root: existing };
    }
    const plan = await this.planning.plan(request, depth);
    // The events its steps wait for are known before any of them can wait.
    await this.eventShapes.register(plan.steps);
    const concurrencyKey = this.planning.concurrencyKey(plan, request);
    const workflow = { request, plan, replyTo, traceparent, depth, fingerprint, concurrencyKey, fairnessKey: fairnessKeyOf(plan, request) ?? start.fairnessKey ?? null };
    const started = await this.queue.apply({
      target: { kind: 'new', workflow },
      apply: async (wf) => {
        if (!wf) return null;
        await this.submitTransition.apply(wf, rerunOf);
        return wf.root;
      },
    });
    if (started) {
      const now = new Date();
      return { created: true, root: { ...started, payload: request.payload, plan, plan_history: null, created_at: now, updated_at: now } as TaskEntity };
    }
    const existing = await this.tasks.findRootByTaskId(request.task_id);
    if (!existing) throw new Error(`task ${request.task_id} vanished while being submitted`);
    return { created: false, root: existing };
  }

  /**
   * Applies an agent's answer to a sub-task attempt; returns the agent of the attempt it applied
   * to. `sender`: the agent it came from (its `agent.<name>.response` subject), null when it came
   * on the attempt's own reply subject. Unknown, late and duplicate answers are dropped, and so are
   * answers from another agent than the one the attempt was sent to. An answer the engine or the
   * database cannot take is recorded as a failed attempt, `answer rejected: <why>`.
   */
  applyResponse(response: TaskResponse, via: string, sender: string | null = null): Promise<string | null> {
    const ref = parseSubtaskWireId(response.task_id);
    if (!ref) {
      this.logger.debug(`dropped a response on ${via} for ${JSON.stringify(response.task_id)}: not a sub-task id`);
      return Promise.resolve(null);
    }
    return this.queue.apply(this.answerJob({ response, rowId: ref.rowId, attempt: ref.attempt, via, sender }));
  }

  private answerJob(answer: Answer): TransitionJob<string | null> {
    return {
      target: { kind: 'row', rowId: answer.rowId },
      rows: [answer.rowId],
      apply: (wf) => this.answerTransition.apply(wf, answer),
      rejected: (reason) => {
        this.logger.warn(`answer ${answer.response.task_id} on ${answer.via} rejected: ${reason}`);
        const refused = failedResponse(answer.response.task_id, `answer rejected: ${reason}`);
        return { ...this.answerJob({ ...answer, response: refused }), rejected: undefined };
      },
    };
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
   * Handles what time has made due in these workflows, in the order given (the sweeper's
   * priority order). One workflow's failure is its own.
   */
  async sweep(due: readonly DueWorkflow[]): Promise<void> {
    const applied = this.queue.applyEach(
      due.map(
        (workflow): TransitionJob<void> => ({
          target: { kind: 'root', rootId: workflow.rootId, skipLocked: true },
          rows: workflow.rowIds,
          ordered: true,
          apply: (wf) => this.sweepTransition.apply(wf, workflow.rowIds),
        }),
      ),
    );
    await Promise.all(
      applied.map((one, i) =>
        one.catch((error: unknown) => {
          this.metrics.errors.inc({ dependency: 'database' });
          this.logger.error(`sweeping workflow ${due[i]?.rootId ?? '?'} failed: ${(error as Error).message}`);
        }),
      ),
    );
  }

  /**
   * Dispatches the steps popped from their lines into slots, each in a transition of its own
   * (batched with whatever else is queued). A popped step that no longer waits gives its slot
   * back, and the line moves again.
   */
  async dispatchClaimed(claims: readonly Claim[]): Promise<void> {
    await Promise.all(
      claims.map(async (claim) => {
        this.metrics.queueWait.observe({ agent: claim.agent }, claim.waitedMs / 1000);
        const ref = parseSubtaskWireId(claim.member);
        const used =
          ref !== null && claim.rootId !== '' &&
          (await this.queue
            .apply({
              // By its root: the transition that put it in line may not have committed yet, and holds its lock until it has.
              target: { kind: 'root', rootId: claim.rootId, skipLocked: false },
              rows: [ref.rowId],
              apply: (wf) => this.claimTransition.apply(wf, claim, ref.rowId, ref.attempt),
            })
            .catch((error: unknown) => {
              // It stays in the database as waiting: the pass that restores lines puts it back.
              this.logger.warn(`dispatching ${claim.member} from line ${claim.queue} failed: ${(error as Error).message}`);
              return false;
            }));
        if (!used) await this.dispatchClaimed(await this.router.release(claim.agent, claim.member));
      }),
    );
  }

  /**
   * An agent answered: its slot frees at once, before the answer is applied, so the next step in
   * line is on its way while the answer commits. Only the agent the slot is held for can free it.
   */
  async releaseAnswered(subtaskId: string, sender: string | null): Promise<void> {
    if (!parseSubtaskWireId(subtaskId)) return;
    const claims = await this.router.release(null, subtaskId, sender ?? undefined);
    await this.dispatchClaimed(claims);
  }

  /**
   * Cancels a workflow: running sub-tasks are told, steps not started never will be, and the
   * requester gets a CANCELLED response. A finished workflow is left as it is.
   */
  async cancel(taskId: string): Promise<{ cancelled: boolean; root: TaskEntity } | null> {
    const root = await this.tasks.findRootByTaskId(taskId);
    if (!root) return null;
    const cancelled = isTerminalStatus(root.status)
      ? false
      : await this.queue.apply({ target: { kind: 'root', rootId: root.id, skipLocked: false }, apply: (wf) => this.cancelTransition.apply(wf) });
    return { cancelled, root: (await this.tasks.findRootById(root.id)) ?? root };
  }

  /**
   * Runs a FAILED or CANCELLED workflow again from its unfinished steps, under its lock (so that
   * two replicas asked at once resume it once); null when there is no such task.
   */
  async retry(taskId: string): Promise<{ outcome: RetryOutcome; root: TaskEntity } | null> {
    const root = await this.tasks.findRootByTaskId(taskId);
    if (!root) return null;
    const outcome = await this.queue.apply({ target: { kind: 'root', rootId: root.id, skipLocked: false }, apply: (wf) => this.retryTransition.apply(wf) });
    return { outcome, root: (await this.tasks.findRootById(root.id)) ?? root };
  }

  /** Applies an agent's report of progress inside an attempt (see ProgressTransition). */
  applyProgress(report: ProgressReportIn): Promise<ProgressOutcome> {
    return this.queue.apply({ target: { kind: 'row', rowId: report.rowId }, rows: [report.rowId], apply: (wf) => Promise.resolve(this.progressTransition.apply(wf, report)) });
  }

  /** Sends the final responses that were committed but never marked sent (their sender died). */
  async resendUnsentResponses(olderThanMs: number, limit: number): Promise<number> {
    if (!this.publisher.connected) return 0;
    return this.tasks.transaction(async (tx) => {
      const roots = await tx.lockUnsentResponses(new Date(Date.now() - olderThanMs), limit);
      for (const root of roots) {
        try {
          this.aggregation.sendFinal(root);
        } catch (error) {
          // It cannot be sent, now or later: marked like the others so that it does not hold them up.
          this.logger.error(`the final response of ${root.task_id} cannot be sent: ${(error as Error).message}`);
        }
      }
      await this.publisher.flush();
      this.history.publishSent(await tx.markResponsesSent(roots.map((root) => root.id)));
      return roots.length;
    });
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
      const question = await this.queue.apply({
        target: { kind: 'root', rootId, skipLocked: true },
        apply: (wf) => this.revisionTransition.lease(wf, this.planning.revisionLeaseMs()),
      });
      if (!question) return;
      let outcome: RevisionOutcome;
      try {
        const plan = await this.planning.revise(question.request, question.revision, question.depth);
        await this.eventShapes.register(plan.steps);
        outcome = { kind: 'revised', plan };
      } catch (error) {
        if (!(error instanceof PlanningError)) throw error;
        outcome = { kind: 'refused', reason: error.message };
      }
      await this.queue.apply({ target: { kind: 'root', rootId, skipLocked: false }, apply: (wf) => this.revisionTransition.apply(wf, question, outcome) });
    } finally {
      this.revising.delete(rootId);
    }
  }
}
