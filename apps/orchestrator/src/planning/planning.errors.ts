import type { ErrorCode } from '@orchestrator/contracts';

export type PlanningErrorCode = `${ErrorCode.UnknownTaskType | ErrorCode.InvalidPayload | ErrorCode.InvalidPlan | ErrorCode.PlannerUnavailable}`;

/** A request that cannot be planned: the caller answers it with a FAILED response. */
export class PlanningError extends Error {
  constructor(
    readonly code: PlanningErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PlanningError';
  }
}

/** Definition files that cannot be used: the service refuses to start, naming every problem. */
export class WorkflowDefinitionError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid workflow definitions:\n  ${problems.join('\n  ')}`);
    this.name = 'WorkflowDefinitionError';
  }
}

/** A `$ref` without a default found nothing at its path (e.g. a field a step's result lacks). */
export class TemplateError extends Error {
  readonly code = 'UNRESOLVED_REFERENCE';
  constructor(readonly path: string) {
    super(`$ref ${path}: nothing is there and the reference has no default`);
    this.name = 'TemplateError';
  }
}
