import { Injectable, Logger } from '@nestjs/common';
import { isAgentName, isPlainObject, jsonValueProblem, validateTaskRequest, type TaskRequest } from '@orchestrator/contracts';
import { AppConfig } from '../config/app-config.js';
import { PlanningService } from '../planning/planning.service.js';
import { BoundedTurn } from '../transport/bounded-turn.js';
import { requestFingerprint } from './request-fingerprint.js';
import { parseSubtaskWireId } from '../persistence/step-keys.js';
import type { TaskEntity } from '../persistence/task.entity.js';
import { PlanningError, type PlanningErrorCode } from '../planning/planning.errors.js';
import { acceptTraceparent } from '../tracing/trace-context.js';
import { WorkflowEngine } from '../engine/workflow-engine.service.js';
import { MetricsService } from '../metrics/metrics.service.js';

export type RejectionCode = 'INVALID_REQUEST' | 'TASK_ID_CONFLICT' | 'OVERLOADED' | PlanningErrorCode;

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
  /** Held by the intake stream until its workflow is committed: it waits its turn rather than being answered `overloaded`. */
  held?: boolean;
}

/**
 * Ids of the form `<uuid>:<attempt>` are the orchestrator's own sub-tasks: a client that took one
 * could stand in for a `workflow:` step's child. They come only on the orchestrators' subject.
 */
function idProblem(taskId: string, child: boolean): string | null {
  const internal = parseSubtaskWireId(taskId) !== null;
  if (internal === child) return null;
  return child
    ? `task_id: a child workflow's id is its sub-task's id (<uuid>:<attempt>), not ${JSON.stringify(taskId)}`
    : `task_id: ids of the form <uuid>:<attempt> are the orchestrator's own sub-tasks; choose another`;
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
    const validated = validateTaskRequest(body);
    if (!validated.ok) return this.reject('INVALID_REQUEST', validated.error, body);
    // What PostgreSQL could not store, or a later step could not serialize, is refused here, named.
    const problem = jsonValueProblem(validated.value.payload, 'payload', this.config.MAX_JSON_DEPTH) ?? idProblem(validated.value.task_id, arrival.child === true);
    if (problem) return this.reject('INVALID_REQUEST', problem, body);
    // A child workflow's budget is what its parent has left, whatever the maximum.
    const overBudget = arrival.child === true ? null : this.budgetProblem(validated.value);
    if (overBudget) return this.reject('INVALID_REQUEST', overBudget, body);
    const level = Number(arrival.depth ?? '1');
    const depth = Number.isSafeInteger(level) && level > 1 ? level : 1;
    const planned = this.planning.isDynamic(validated.value.task_type);
    const line = planned ? this.planned : this.stored;
    const started = line.run(arrival.bytes ?? 0, () => this.start(validated.value, body, arrival, depth), arrival.held);
    if (started !== 'full') return started;
    this.metrics.requestsShed.inc({ line: planned ? 'planner' : 'intake' });
    return this.reject('OVERLOADED', OVERLOADED, body);
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
          return this.reject('TASK_ID_CONFLICT', `task_id: "${request.task_id}" is already used by a different request`, body);
        }
        this.logger.log(`task ${request.task_id} was submitted again: returning its state`);
        return { kind: 'existing', root: result.root };
      }
      return { kind: 'accepted', root: result.root };
    } catch (error) {
      if (error instanceof PlanningError) return this.reject(error.code, error.message, body);
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

  private reject(code: RejectionCode, error: string, body: unknown): SubmitOutcome {
    const fields = isPlainObject(body) ? body : {};
    const taskId = typeof fields['task_id'] === 'string' ? fields['task_id'].slice(0, 128) : '';
    const requester = fields['requester_id'];
    return { kind: 'rejected', code, error, taskId, requesterId: isAgentName(requester) ? requester : null };
  }
}
