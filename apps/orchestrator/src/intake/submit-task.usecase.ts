import { Injectable, Logger } from '@nestjs/common';
import { isAgentName, isPlainObject, jsonValueProblem, validateTaskRequest, type TaskRequest } from '@orchestrator/contracts';
import pLimit from 'p-limit';
import { AppConfig } from '../config/app-config.js';
import { requestFingerprint } from './request-fingerprint.js';
import type { TaskEntity } from '../persistence/task.entity.js';
import { PlanningError, type PlanningErrorCode } from '../planning/planning.errors.js';
import { acceptTraceparent } from '../tracing/trace-context.js';
import { WorkflowEngine } from '../engine/workflow-engine.service.js';

export type RejectionCode = 'INVALID_REQUEST' | 'TASK_ID_CONFLICT' | PlanningErrorCode;

export type SubmitOutcome =
  | { kind: 'accepted'; root: TaskEntity }
  | { kind: 'existing'; root: TaskEntity }
  | { kind: 'rejected'; code: RejectionCode; error: string; taskId: string; requesterId: string | null };

/**
 * Takes a TaskRequest from any transport: validates it, plans it and starts its workflow, or
 * returns the existing task for a repeated `task_id`. Nothing is written for a rejected request.
 */
@Injectable()
export class SubmitTaskUseCase {
  private readonly logger = new Logger(SubmitTaskUseCase.name);

  /**
   * Requests past this many wait, still raw, before anything is built for them: a burst of
   * thousands costs little memory and reaches the database at the pace it takes.
   */
  private readonly turn = pLimit(64);

  constructor(
    private readonly engine: WorkflowEngine,
    private readonly config: AppConfig,
  ) {}

  /**
   * `traceparent`: the W3C trace context the request came with (a NATS or HTTP header), if any;
   * `depth`: for a workflow a `workflow:` step starts, how deep it runs (a NATS header the
   * orchestrator sets on such sub-tasks); 1 otherwise.
   */
  async execute(body: unknown, replyTo?: string, traceparent?: string, depth?: string): Promise<SubmitOutcome> {
    const validated = validateTaskRequest(body);
    if (!validated.ok) return this.reject('INVALID_REQUEST', validated.error, body);
    // What PostgreSQL could not store, or a later step could not serialize, is refused here, named.
    const problem = jsonValueProblem(validated.value.payload, 'payload', this.config.MAX_JSON_DEPTH);
    if (problem) return this.reject('INVALID_REQUEST', problem, body);
    const level = Number(depth ?? '1');
    return this.turn(() => this.start(validated.value, body, replyTo, acceptTraceparent(traceparent), Number.isSafeInteger(level) && level > 1 ? level : 1));
  }

  private async start(request: TaskRequest, body: unknown, replyTo: string | undefined, traceparent: string | null, depth: number): Promise<SubmitOutcome> {
    try {
      const fingerprint = requestFingerprint(request);
      const result = await this.engine.submit(request, { replyTo: replyTo ?? null, traceparent, depth, fingerprint });
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

  private reject(code: RejectionCode, error: string, body: unknown): SubmitOutcome {
    const fields = isPlainObject(body) ? body : {};
    const taskId = typeof fields['task_id'] === 'string' ? fields['task_id'].slice(0, 128) : '';
    const requester = fields['requester_id'];
    return { kind: 'rejected', code, error, taskId, requesterId: isAgentName(requester) ? requester : null };
  }
}
