/** Naming rules of the contract. A name that breaks them never reaches a subject. */
export const AGENT_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const TASK_TYPE_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
export const TASK_ID_PATTERN = /^\S{1,128}$/u;
/** A signal's name (`wait_for: { signal }`, `POST /tasks/:task_id/signals/:signal`). */
export const SIGNAL_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** An external event's name: dot-separated words (`payment.received`), the tail of its subject; no wildcard, no empty word. */
export const EVENT_NAME_PATTERN = /^(?=.{1,128}$)[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

export function isEventName(value: unknown): value is string {
  return typeof value === 'string' && EVENT_NAME_PATTERN.test(value);
}

export function assertEventName(name: string): string {
  if (!EVENT_NAME_PATTERN.test(name)) throw new Error(`event name ${JSON.stringify(name.slice(0, 80))} does not match ${EVENT_NAME_PATTERN.source}`);
  return name;
}

export function isAgentName(value: unknown): value is string {
  return typeof value === 'string' && AGENT_NAME_PATTERN.test(value);
}

export class InvalidAgentNameError extends Error {
  readonly code = 'INVALID_AGENT_NAME';
  constructor(name: string) {
    super(`agent name ${JSON.stringify(name.slice(0, 80))} does not match ${AGENT_NAME_PATTERN.source}`);
  }
}

export function assertAgentName(name: string): string {
  if (!isAgentName(name)) throw new InvalidAgentNameError(name);
  return name;
}
