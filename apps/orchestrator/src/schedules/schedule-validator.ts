import { Injectable } from '@nestjs/common';
import { jsonValueProblem, validateSchedulePatch, validateScheduleRequest, type ScheduleSpec, type Validated } from '@orchestrator/contracts';
import { AppConfig } from '../config/app-config.js';
import { checkPayload, PlanningService } from '../planning/planning.service.js';
import type { WorkflowDefinition } from '../planning/workflow-definition.js';
import { WorkflowCatalog } from '../planning/workflow-catalog.service.js';
import { timingProblem } from './schedule-clock.js';

/** What a schedule is checked against: the workflows loaded, whether a planner plans the others, the limits of a request. */
export interface ScheduleContext {
  workflow(taskType: string): WorkflowDefinition | undefined;
  planner: boolean;
  maxJsonDepth: number;
  maxMessageBytes: number;
}

/**
 * What is wrong with a schedule whose fields have the right shape, named by field: its cron
 * expression or time zone, a task_type with no workflow (and no planner), a payload its workflow
 * refuses or that no request could carry.
 */
export function scheduleProblems(spec: ScheduleSpec, context: ScheduleContext): string[] {
  const problems: string[] = [];
  const timing = timingProblem(spec);
  if (timing) problems.push(timing);
  const definition = context.workflow(spec.task_type);
  if (!definition && !context.planner) problems.push(`task_type: no workflow is defined for "${spec.task_type}"`);
  if (definition?.dynamic && !context.planner) problems.push(`task_type: "${spec.task_type}" is planned at run time and no planner agent is configured (PLANNER_AGENT)`);
  const stored = jsonValueProblem(spec.payload, 'payload', context.maxJsonDepth);
  const bytes = Buffer.byteLength(JSON.stringify(spec.payload));
  if (stored) problems.push(stored);
  else if (bytes > context.maxMessageBytes) problems.push(`payload: ${bytes} bytes; a request is at most MAX_MESSAGE_BYTES (${context.maxMessageBytes})`);
  else if (definition) problems.push(...checkPayload(definition.payload, spec.payload));
  return problems;
}

/** Checks a schedule the way its runs will be checked, once, where it is made (HTTP or a file). */
@Injectable()
export class ScheduleValidator {
  readonly context: ScheduleContext;

  constructor(catalog: WorkflowCatalog, planning: PlanningService, config: AppConfig) {
    this.context = {
      workflow: (taskType) => catalog.get(taskType),
      planner: planning.hasPlanner(),
      maxJsonDepth: config.MAX_JSON_DEPTH,
      maxMessageBytes: config.MAX_MESSAGE_BYTES,
    };
  }

  validate(input: unknown): Validated<ScheduleSpec> {
    return this.checked(validateScheduleRequest(input));
  }

  /** A patch merged onto `current`, checked as a whole schedule. */
  validatePatch(current: ScheduleSpec, input: unknown): Validated<ScheduleSpec> {
    return this.checked(validateSchedulePatch(current, input));
  }

  private checked(shape: Validated<ScheduleSpec>): Validated<ScheduleSpec> {
    if (!shape.ok) return shape;
    const problems = scheduleProblems(shape.value, this.context);
    return problems.length === 0 ? shape : { ok: false, error: problems.join('; ') };
  }
}
