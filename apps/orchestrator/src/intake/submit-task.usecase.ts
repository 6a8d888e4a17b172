import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { ErrorCode, isAgentName, isPlainObject, jsonValueProblem, ORCHESTRATOR_AGENT_NAME, validateTaskRequest, type TaskRequest } from '@orchestrator/contracts';
import { AppConfig } from '../config/app-config.js';
import { ReplyGuard } from './reply-guard.js';
import { PlanningService } from '../planning/planning.service.js';
import { BoundedTurn } from '../transport/bounded-turn.js';
import { requestFingerprint } from './request-fingerprint.js';
import { INTERNAL_ID_REFUSED, isInternalTaskId } from './task-ref.js';
import type { TaskEntity } from '../persistence/task.entity.js';
import { PlanningError, type PlanningErrorCode } from '../planning/planning.errors.js';
import { acceptTraceparent } from '../tracing/trace-context.js';
import { WorkflowEngine } from '../engine/workflow-engine.service.js';
import { MetricsService } from '../metrics/metrics.service.js';

/**
 * Why a request is refused, in the API's one vocabulary (ErrorCode); `REPLY_REFUSED`: the request
 * names a reply subject the orchestrator does not answer on, so it is answered nowhere.
 */
export type RejectionCode = `${ErrorCode.InvalidRequest | ErrorCode.TaskIdConflict | ErrorCode.Overloaded}` | 'REPLY_REFUSED' | PlanningErrorCode;

export type SubmitOutcome =
  | { kind: 'accepted'; root: TaskEntity }
  | { kind: 'existing'; root: TaskEntity }
  | { kind: 'rejected'; code: RejectionCode; error: string; taskId: string; requesterId: string | null };

/** How a request came, besides its body. */
export interface Arrival {
  /** The reply subject of a NATS request. */
  replyTo?: string;
  /** The W3C trace context it came with (a NATS or HTTP header). */
  traceparent?: string;
  /** A `workflow:` step's sub-task, on the orchestrators' own subject: its id is the sub-task's (`<uuid>:<attempt>`). */
  child?: boolean;
  /** For a workflow a `workflow:` step starts, how deep it runs (a header the orchestrator sets on such sub-tasks). */
  depth?: string;
  /** For a workflow a `workflow:` step starts, the key its parent's steps take turns by (a header too). */
  fairnessKey?: string;
  /** Its size, for the bound on requests waiting. */
  bytes?: number;
  /** The task_id of the task it runs again (a rerun). */
  rerunOf?: string;
  /**
   * The task_id a request without one takes (a fresh UUID when absent): a copy kept by the intake
   * stream takes one derived from the copy, so that its delivery again is the same task.
   */
  taskIdIfAbsent?: string;
  /** Held by the intake stream until its workflow is committed: it waits its turn rather than being answered `overloaded`. */
  held?: boolean;
}

/** A child workflow comes only with its sub-task's id; a request from outside never with one. */
function idProblem(taskId: string, child: boolean): string | null {
  const internal = isInternalTaskId(taskId);
  if (internal === child) return null;
  return child ? `task_id: a child workflow's id is its sub-task's id (<uuid>:<attempt>), not ${JSON.stringify(taskId)}` : INTERNAL_ID_REFUSED;
}

/** The orchestrator's own name as requester is for its own sub-tasks: its answers on agent.orchestrator_agent.response are its own to read. */
function requesterProblem(requesterId: string | undefined, child: boolean): string | null {
  return requesterId === ORCHESTRATOR_AGENT_NAME && !child ? `requester_id: "${ORCHESTRATOR_AGENT_NAME}" is the orchestrator itself; name the agent that asks` : null;
}

/** What a request that finds the line full is told. */
export const OVERLOADED = 'overloaded: submit it again';

/**
 * Takes a TaskRequest from any transport: validates it, plans it and starts its workflow, or
 * returns the existing task for a repeated `task_id`. Nothing is written for a rejected request.
 * Requests wait their turn in a bounded line, and those planned by the planner agent in a line of
 * their own (they wait for an agent, not for the database); a request that finds its line full
 * is answered at once, `overloaded: submit it again`.
 */
@Injectable()
export class SubmitTaskUseCase {
  private readonly logger = new Logger(SubmitTaskUseCase.name);
  private readonly stored: BoundedTurn;
  private readonly planned: BoundedTurn;

  constructor(
    private readonly engine: WorkflowEngine,
    private readonly planning: PlanningService,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly replies: ReplyGuard,
  ) {
    this.stored = new BoundedTurn(config.INTAKE_CONCURRENCY, config.INTAKE_QUEUE_MAX, config.INTAKE_QUEUE_MAX_BYTES);
    this.planned = new BoundedTurn(config.PLANNER_CONCURRENCY, config.PLANNER_QUEUE_MAX, config.INTAKE_QUEUE_MAX_BYTES);
    const lines = { intake: this.stored, planner: this.planned };
    const waiting = (measure: 'count' | 'bytes') => () =>
      Promise.resolve(new Map(Object.entries(lines).map(([line, turn]) => [line, turn.waiting[measure]])));
    metrics.labelledGauge('orchestrator_intake_waiting', 'Requests of this replica waiting their turn, by line (intake, planner)', 'line', waiting('count'));
    metrics.labelledGauge('orchestrator_intake_waiting_bytes', 'Bytes of the requests of this replica waiting their turn, by line', 'line', waiting('bytes'));
  }

  async execute(body: unknown, arrival: Arrival = {}): Promise<SubmitOutcome> {
    const child = arrival.child === true;
    const replyProblem = this.replies.problem(arrival.replyTo, child ? { taskId: isPlainObject(body) ? body['task_id'] : undefined } : undefined);
    if (replyProblem) return this.reject('REPLY_REFUSED', replyProblem, body, child);
    // A request without a task_id gets one, answered with it; only a given one makes resubmitting safe.
    const validated = validateTaskRequest(body, () => arrival.taskIdIfAbsent ?? randomUUID());
    if (!validated.ok) return this.reject('INVALID_REQUEST', validated.error, body, child);
    // What PostgreSQL could not store, or a later step could not serialize, is refused here, named.
    const problem =
      jsonValueProblem(validated.value.payload, 'payload', this.config.MAX_JSON_DEPTH) ??
      idProblem(validated.value.task_id, child) ??
      requesterProblem(validated.value.requester_id, child);
    if (problem) {
      if (problem === INTERNAL_ID_REFUSED) this.metrics.requestsRefused.inc({ reason: 'internal_id' });
      return this.reject('INVALID_REQUEST', problem, body, child);
    }
    // A child workflow's budget is what its parent has left, whatever the maximum.
    const overBudget = child ? null : this.budgetProblem(validated.value);
    if (overBudget) return this.reject('INVALID_REQUEST', overBudget, body, child);
    const level = Number(arrival.depth ?? '1');
    const depth = Number.isSafeInteger(level) && level > 1 ? level : 1;
    const planned = this.planning.isDynamic(validated.value.task_type);
    const line = planned ? this.planned : this.stored;
    const started = line.run(arrival.bytes ?? 0, () => this.start(validated.value, body, arrival, depth), arrival.held);
    if (started !== 'full') return started;
    this.metrics.requestsShed.inc({ line: planned ? 'planner' : 'intake' });
    return this.reject('OVERLOADED', OVERLOADED, body, child);
  }
  private async start(request: TaskRequest, body: unknown, arrival: Arrival, depth: number): Promise<SubmitOutcome> {
    try {
      const fingerprint = requestFingerprint(request);
      const result = await this.engine.submit(request, {
        replyTo: arrival.replyTo ?? null,
        traceparent: acceptTraceparent(arrival.traceparent),
        depth,
        fingerprint,
        rerunOf: arrival.rerunOf ?? null,
        fairnessKey: arrival.child === true ? (arrival.fairnessKey ?? null) : null,
      });
      if (!result.created) {
        // Tasks stored before requests were fingerprinted have none: taken as the same request.
        if (result.root.request_hash !== null && result.root.request_hash !== fingerprint) {
          return this.reject('TASK_ID_CONFLICT', `task_id: "${request.task_id}" is already used by a different request`, body, arrival.child === true);
        }
        this.logger.log(`task ${request.task_id} was submitted again: returning its state`);
        return { kind: 'existing', root: result.root };
      }
      return { kind: 'accepted', root: result.root };
    } catch (error) {
      if (error instanceof PlanningError) return this.reject(error.code, error.message, body, arrival.child === true);
      throw error;
    }
  }

  /** A request's budget over BUDGET_MAX_TOKENS or BUDGET_MAX_COST, named. */
  private budgetProblem(request: TaskRequest): string | null {
    const { budget } = request;
    const { BUDGET_MAX_TOKENS, BUDGET_MAX_COST } = this.config;
    if (budget?.max_tokens !== undefined && BUDGET_MAX_TOKENS !== undefined && budget.max_tokens > BUDGET_MAX_TOKENS) {
      return `budget.max_tokens: must be at most ${BUDGET_MAX_TOKENS} (BUDGET_MAX_TOKENS)`;
    }
    if (budget?.max_cost !== undefined && BUDGET_MAX_COST !== undefined && budget.max_cost > BUDGET_MAX_COST) {
      return `budget.max_cost: must be at most ${BUDGET_MAX_COST} (BUDGET_MAX_COST)`;
    }
    return null;
  }

  private reject(code: RejectionCode, error: string, body: unknown, child: boolean): SubmitOutcome {
    return { kind: 'rejected', code, error, ...refusalAddress(body, child) };
  }
}

/**
 * Whom a refusal names and where it may go besides the reply subject. A request naming an
 * orchestrator's own id (`<uuid>:<attempt>`) from outside is told so on its inbox only, and its
 * refusal names no id: sent on `agent.<requester_id>.response` it would read as that agent's answer
 * to the sub-task. Nor does a refusal go to the orchestrator's own response subject.
 */
export function refusalAddress(body: unknown, child: boolean): { taskId: string; requesterId: string | null } {
  const fields = isPlainObject(body) ? body : {};
  const named = typeof fields['task_id'] === 'string' ? fields['task_id'].slice(0, 128) : '';
  if (isInternalTaskId(named) && !child) return { taskId: '', requesterId: null };
  const requester = fields['requester_id'];
  return { taskId: named, requesterId: isAgentName(requester) && requester !== ORCHESTRATOR_AGENT_NAME ? requester : null };
}
