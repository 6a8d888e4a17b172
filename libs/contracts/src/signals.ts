import { jsonValueProblem } from './json-limits.js';
import { isAgentName, SIGNAL_NAME_PATTERN, TASK_ID_PATTERN } from './names.js';
import { isPlainObject, type Validated } from './validation.js';

/** The signal of the common approval: `orchestrator approve|reject`, the dashboard's buttons. Its payload is `{ approved, comment? }`. */
export const APPROVAL_SIGNAL = 'approval';
/** The longest `signal_id`. */
export const MAX_SIGNAL_ID_CHARS = 256;

/** A signal for a workflow (`agent.orchestrator_agent.signal`, `POST /tasks/:task_id/signals/:signal`). */
export interface SignalRequest {
  /** The workflow's task_id. */
  task_id: string;
  signal: string;
  payload: Record<string, unknown>;
  /** Makes a repeat recognisable: the same signal_id twice for one workflow is taken once. */
  signal_id?: string;
  /** Who sends it (an agent name), for the workflow's history. */
  requester_id?: string;
}

export enum SignalStatus {
  Accepted = 'ACCEPTED',
  Refused = 'REFUSED',
}

/** The answer to a signal, over NATS (request/reply) and HTTP alike. */
export interface SignalReply {
  task_id: string;
  signal: string;
  status: SignalStatus;
  /** Why it was refused; null when accepted. */
  error: string | null;
  /** A refusal's stable code, as HTTP gives it: INVALID_REQUEST, INVALID_PAYLOAD, TASK_NOT_FOUND, TASK_FINISHED, NO_WAITING_STEP. */
  code?: string;
  /** Accepted: a step took it now (`delivered`), or it waits for its step (`kept`). */
  outcome?: 'delivered' | 'kept';
  /** The step it was given to. */
  step?: string | null;
  /** True when its `signal_id` was taken before: nothing changed this time. */
  duplicate?: boolean;
}

/** Reads the signal's name, its payload and its optional id, each checked; the error names the field. */
export function parseSignalRequest(input: unknown): Validated<SignalRequest> {
  if (!isPlainObject(input)) return { ok: false, error: 'signal: must be a JSON object' };
  const { task_id, signal, payload, signal_id, requester_id } = input;
  if (typeof task_id !== 'string' || !TASK_ID_PATTERN.test(task_id)) return { ok: false, error: 'task_id: must be 1 to 128 characters without whitespace' };
  if (typeof signal !== 'string' || !SIGNAL_NAME_PATTERN.test(signal)) return { ok: false, error: `signal: must match ${SIGNAL_NAME_PATTERN.source}` };
  if (payload !== undefined && payload !== null && !isPlainObject(payload)) return { ok: false, error: 'payload: must be a JSON object' };
  if (signal_id !== undefined && signal_id !== null && (typeof signal_id !== 'string' || signal_id.length === 0 || signal_id.length > MAX_SIGNAL_ID_CHARS)) {
    return { ok: false, error: `signal_id: must be a string of 1 to ${MAX_SIGNAL_ID_CHARS} characters` };
  }
  if (requester_id !== undefined && requester_id !== null && !isAgentName(requester_id)) return { ok: false, error: 'requester_id: must be an agent name' };
  const body = payload ?? {};
  const problem = jsonValueProblem(body, 'payload') ?? (typeof signal_id === 'string' ? jsonValueProblem(signal_id, 'signal_id') : null);
  if (problem) return { ok: false, error: problem };
  return {
    ok: true,
    value: {
      task_id,
      signal,
      payload: body,
      ...(typeof signal_id === 'string' ? { signal_id } : {}),
      ...(typeof requester_id === 'string' ? { requester_id } : {}),
    },
  };
}

/** `POST /events/:name` answers how many waiting steps the event resumed. */
export interface ExternalEventReply {
  event: string;
  /** Steps the event matched and resumed. */
  resumed: number;
  /** True when it is kept for steps that start later (`lookback_ms`). */
  kept: boolean;
}
