import { ErrorCode, isPlainObject, type TaskResponse } from '@orchestrator/contracts';

/**
 * The one vocabulary of the orchestrator's errors (ErrorCode of @orchestrator/contracts), the same
 * over HTTP and NATS: the server's codes (`INVALID_REQUEST`, `INVALID_PAYLOAD`,
 * `UNKNOWN_TASK_TYPE`, `TASK_ID_CONFLICT`, `OVERLOADED`, `TASK_NOT_FOUND`, `TASK_FINISHED`,
 * `UNAUTHORIZED`, `PAYLOAD_TOO_LARGE`, …) and the client's own: `TIMEOUT` (no final answer in
 * time), `NO_RESPONDERS` (no orchestrator listens on NATS), `UNAVAILABLE` (the orchestrator could
 * not be reached or could not store the request now), `INVALID_OPTIONS`, `BAD_ANSWER`.
 */
export type OrchestratorErrorCode = `${ErrorCode}` | 'BAD_ANSWER' | (string & {});

export interface OrchestratorErrorDetails {
  code: OrchestratorErrorCode;
  /** The HTTP status, for errors of the HTTP API. */
  status?: number;
  /** The field the server named as wrong, e.g. `payload.topic`. */
  field?: string;
  /** How long the server asks to wait before submitting again (HTTP 503 `Retry-After`). */
  retryAfterMs?: number;
  taskId?: string;
  /** The answer over NATS that was an error: the request's rejection, or a known task's FAILED state. */
  response?: TaskResponse;
  /** The HTTP error body as the server sent it. */
  body?: Record<string, unknown>;
}

/** An error of the orchestrator or of reaching it, with the server's message, code and status. */
export class OrchestratorError extends Error implements OrchestratorErrorDetails {
  readonly code: OrchestratorErrorCode;
  readonly status?: number;
  readonly field?: string;
  readonly retryAfterMs?: number;
  readonly taskId?: string;
  readonly response?: TaskResponse;
  readonly body?: Record<string, unknown>;

  constructor(message: string, details: OrchestratorErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OrchestratorError';
    this.code = details.code;
    if (details.status !== undefined) this.status = details.status;
    if (details.field !== undefined) this.field = details.field;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (details.taskId !== undefined) this.taskId = details.taskId;
    if (details.response !== undefined) this.response = details.response;
    if (details.body !== undefined) this.body = details.body;
  }
}

/**
 * The field an error message names first: `payload.topic: is required` (the contract's form),
 * or `limit must not be greater than 100` (the form of the list endpoint's query checks).
 */
export function fieldOf(message: string): string | undefined {
  return /^([A-Za-z_]\w*(?:\.\w+|\[\d+\])*)(?::\s| must | should )/.exec(message)?.[1];
}

/** `Retry-After` as milliseconds: a number of seconds or an HTTP date. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The error of an HTTP answer that is not 2xx, from its `{ code, message }` body. */
export function httpError(status: number, body: unknown, headers: { get(name: string): string | null }): OrchestratorError {
  const fields = isPlainObject(body) ? body : {};
  const message = typeof fields['message'] === 'string' ? fields['message'] : `HTTP ${status}${typeof body === 'string' && body ? `: ${body.slice(0, 500)}` : ''}`;
  const code = typeof fields['code'] === 'string' ? fields['code'] : `HTTP_${status}`;
  const details: OrchestratorErrorDetails = { code, status, body: fields };
  const field = status === 400 || status === 409 ? fieldOf(message) : undefined;
  if (field !== undefined) details.field = field;
  const wait = retryAfterMs(headers.get('retry-after'));
  if (wait !== undefined) details.retryAfterMs = wait;
  if (typeof fields['task_id'] === 'string') details.taskId = fields['task_id'];
  return new OrchestratorError(message, details);
}

/** Codes by the message of a FAILED answer over NATS from an orchestrator that sends no `error_code`. */
const NATS_REJECTIONS: readonly [RegExp, ErrorCode][] = [
  [/^overloaded: /, ErrorCode.Overloaded],
  [/^task_id: ".*" is already used by a different request$/s, ErrorCode.TaskIdConflict],
  [/submit it again$/, ErrorCode.Unavailable],
];

/** Codes whose message names the field that is wrong. */
const FIELD_CODES = new Set<string>([ErrorCode.InvalidRequest, ErrorCode.InvalidPayload, ErrorCode.UnknownTaskType, ErrorCode.TaskIdConflict]);

/** The error for a FAILED answer that came at once over NATS: its `error_code`, as over HTTP. */
export function natsRejection(response: TaskResponse): OrchestratorError {
  const message = response.error ?? `the orchestrator answered ${response.status}`;
  const code = response.error_code ?? NATS_REJECTIONS.find(([pattern]) => pattern.test(message))?.[1] ?? ErrorCode.InvalidRequest;
  const details: OrchestratorErrorDetails = { code, response };
  if (response.task_id) details.taskId = response.task_id;
  const field = FIELD_CODES.has(code) ? fieldOf(message) : undefined;
  if (field !== undefined) details.field = field;
  return new OrchestratorError(message, details);
}
