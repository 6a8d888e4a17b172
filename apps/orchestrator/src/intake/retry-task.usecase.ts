import { Injectable } from '@nestjs/common';
import { isPlainObject, jsonValueProblem } from '@orchestrator/contracts';
import { AppConfig } from '../config/app-config.js';
import { WorkflowEngine } from '../engine/workflow-engine.service.js';
import type { RetryFrom } from '../engine/transitions/retry-from-step.js';
import { STEP_ID_PATTERN } from '../planning/workflow-definition.js';
import type { TaskEntity } from '../persistence/task.entity.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { taskIdOf } from './task-ref.js';

export type RetryTaskOutcome =
  | { kind: 'resumed'; root: TaskEntity; steps: string[] }
  | { kind: 'refused'; root: TaskEntity; reason: string }
  | { kind: 'unknown'; taskId: string }
  | { kind: 'rejected'; error: string };

/** `from_step` and `input` of a retry, checked; undefined without `from_step`. */
function retryFrom(body: Record<string, unknown>, maxDepth: number): { ok: true; from?: RetryFrom } | { ok: false; error: string } {
  const { from_step: step, input } = body;
  if (step === undefined || step === null) {
    return input === undefined || input === null ? { ok: true } : { ok: false, error: 'input: is given without from_step: name the step it is the input of' };
  }
  if (typeof step !== 'string' || !STEP_ID_PATTERN.test(step)) return { ok: false, error: `from_step: must be the id of a step of the task (${STEP_ID_PATTERN.source})` };
  if (input === undefined || input === null) return { ok: true, from: { step } };
  if (!isPlainObject(input)) return { ok: false, error: 'input: must be a JSON object' };
  const problem = jsonValueProblem(input, 'input', maxDepth);
  return problem ? { ok: false, error: problem } : { ok: true, from: { step, input } };
}

/**
 * Runs a FAILED or CANCELLED task again from its unfinished steps, by its `task_id`, from any
 * transport; with `from_step`, that step and every step downstream of it run again too (a
 * COMPLETED task included), with `input` as the step's input when given.
 */
@Injectable()
export class RetryTaskUseCase {
  constructor(
    private readonly engine: WorkflowEngine,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  /** `body` is `{ "task_id": ..., "from_step"?: ..., "input"?: {...} }`. */
  async execute(body: unknown): Promise<RetryTaskOutcome> {
    const ref = taskIdOf(body, this.metrics);
    if (!ref.ok) return { kind: 'rejected', error: ref.error };
    const from = retryFrom(isPlainObject(body) ? body : {}, this.config.MAX_JSON_DEPTH);
    if (!from.ok) return { kind: 'rejected', error: from.error };
    const result = await this.engine.retry(ref.taskId, from.from);
    if (!result) return { kind: 'unknown', taskId: ref.taskId };
    const { outcome, root } = result;
    switch (outcome.kind) {
      case 'resumed':
        return { kind: 'resumed', root, steps: outcome.steps };
      case 'invalid':
        return { kind: 'rejected', error: outcome.reason };
      case 'refused':
        return { kind: 'refused', root, reason: outcome.reason };
    }
  }
}
