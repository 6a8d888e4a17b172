import { isPlainObject } from '@orchestrator/contracts';
import type { PayloadField } from './workflow-definition.js';

/** What a wait that times out does: the step fails, is skipped (`{ skipped: true }`), or completes with `default`. */
export type OnTimeout = 'fail' | 'skip' | 'continue';

/** `wait_for:` a signal addressed to the workflow, or an external event whose fields match. */
export interface WaitForDefinition {
  signal?: string;
  event?: string;
  /** The event's fields that must equal these values: templates, resolved when the step starts. */
  match?: Record<string, unknown>;
  timeout_ms?: number;
  on_timeout: OnTimeout;
  /** The result of a wait that times out with `on_timeout: continue`. */
  default?: Record<string, unknown>;
  /** The fields a signal's payload may have, checked as a workflow's payload is. */
  payload?: Record<string, PayloadField>;
  /** Events of this name are kept this long, for steps that start after them. */
  lookback_ms?: number;
}

/** `sleep:` for a time from when the step starts, or until a time a CEL expression gives. */
export interface SleepDefinition {
  for_ms?: number;
  until?: string;
}

const whole = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) ? value : undefined);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Reads `wait_for` as far as it goes; the schema has reported what is wrong with it. */
export function readWaitFor(value: unknown, readPayload: (value: unknown) => Record<string, PayloadField>): WaitForDefinition | undefined {
  if (!isPlainObject(value)) return undefined;
  const onTimeout = value['on_timeout'];
  const wait: WaitForDefinition = { on_timeout: onTimeout === 'skip' || onTimeout === 'continue' ? onTimeout : 'fail' };
  const signal = text(value['signal']);
  const event = text(value['event']);
  if (signal !== undefined) wait.signal = signal;
  if (event !== undefined) wait.event = event;
  if (isPlainObject(value['match'])) wait.match = value['match'];
  const timeout = whole(value['timeout_ms']);
  if (timeout !== undefined) wait.timeout_ms = timeout;
  if (isPlainObject(value['default'])) wait.default = value['default'];
  if (value['payload'] !== undefined) wait.payload = readPayload(value['payload']);
  const lookback = whole(value['lookback_ms']);
  if (lookback !== undefined) wait.lookback_ms = lookback;
  return wait;
}

export function readSleep(value: unknown): SleepDefinition | undefined {
  if (!isPlainObject(value)) return undefined;
  const sleep: SleepDefinition = {};
  const forMs = whole(value['for_ms']);
  if (forMs !== undefined) sleep.for_ms = forMs;
  const until = text(value['until']);
  if (until !== undefined) sleep.until = until;
  return sleep;
}

/** The task_type a row of a waiting step is stored with: nothing is sent, so it names the kind. */
export function waitTaskType(wait: WaitForDefinition | undefined, sleep: SleepDefinition | undefined): string | undefined {
  if (wait) return 'wait_for';
  if (sleep) return 'sleep';
  return undefined;
}
