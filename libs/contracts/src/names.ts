/** Naming rules of the contract. A name that breaks them never reaches a subject. */
export const AGENT_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const TASK_TYPE_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
export const TASK_ID_PATTERN = /^\S{1,128}$/u;

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
