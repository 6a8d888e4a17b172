/**
 * The one vocabulary of errors: the `code` of every HTTP error body, the `error_code` of a FAILED
 * TaskResponse that refuses a request over NATS, and the `code` of the client's OrchestratorError.
 */
export enum ErrorCode {
  /** A field of the request is wrong or missing; the message names it. */
  InvalidRequest = 'INVALID_REQUEST',
  /** The payload does not have what its workflow declares; the message names the field. */
  InvalidPayload = 'INVALID_PAYLOAD',
  /** No workflow is defined for the task_type and no planner could plan it. */
  UnknownTaskType = 'UNKNOWN_TASK_TYPE',
  /** The planner's plan was refused. */
  InvalidPlan = 'INVALID_PLAN',
  /** The task is planned at run time and no planner answered. */
  PlannerUnavailable = 'PLANNER_UNAVAILABLE',
  /** The task_id is used by a different request. */
  TaskIdConflict = 'TASK_ID_CONFLICT',
  /** Too many requests wait already: submit it again. */
  Overloaded = 'OVERLOADED',
  /** The orchestrator cannot store or reach what it needs right now (or cannot be reached): try again. */
  Unavailable = 'UNAVAILABLE',
  TaskNotFound = 'TASK_NOT_FOUND',
  /** Cancel: the task had finished. */
  TaskFinished = 'TASK_FINISHED',
  /** Retry: the task runs, or completed and no step to run again was named. */
  TaskNotRetryable = 'TASK_NOT_RETRYABLE',
  /** Rerun: the task still runs. */
  TaskRunning = 'TASK_RUNNING',
  /** A workflow file is refused (reload); the message lists every problem. */
  InvalidWorkflow = 'INVALID_WORKFLOW',
  /** Signal: no step of the task waits for it. */
  NoWaitingStep = 'NO_WAITING_STEP',
  /** A schedule's field is wrong; the message names it. */
  InvalidSchedule = 'INVALID_SCHEDULE',
  ScheduleNotFound = 'SCHEDULE_NOT_FOUND',
  /** Create: the schedule_id is taken. */
  ScheduleExists = 'SCHEDULE_EXISTS',
  /** Change or delete of a schedule declared in a file: it changes there. */
  ScheduleFromFile = 'SCHEDULE_FROM_FILE',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  /** A body that is not JSON (`Content-Type: application/json`). */
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  Unauthorized = 'UNAUTHORIZED',
  /** No such route. */
  NotFound = 'NOT_FOUND',
  InternalError = 'INTERNAL_ERROR',
  /** The client's own: no final answer in time. */
  Timeout = 'TIMEOUT',
  /** The client's own: no orchestrator listens on NATS. */
  NoResponders = 'NO_RESPONDERS',
  /** The client's own: its options are wrong. */
  InvalidOptions = 'INVALID_OPTIONS',
}

const CODES = new Set<string>(Object.values(ErrorCode));

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && CODES.has(value);
}
