import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isPlainObject, TaskPriority, TASK_TYPE_PATTERN, TaskStatus } from '@orchestrator/contracts';
import { UsageError } from './cli-error.js';

/**
 * `--payload`: a JSON object, or `@file` to read it from a file (`@-`: standard input).
 * The orchestrator checks the fields; this checks only that it is an object.
 */
export function parsePayload(text: string, read: (path: string) => string = (path) => readFileSync(path === '-' ? 0 : path, 'utf8')): Record<string, unknown> {
  let source = text;
  if (text.startsWith('@')) {
    try {
      source = read(text.slice(1));
    } catch (error) {
      throw new UsageError(`--payload: cannot read ${text.slice(1)}: ${(error as Error).message}`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    throw new UsageError(`--payload: not JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(value)) throw new UsageError('--payload: must be a JSON object, e.g. \'{"topic":"Graphs"}\'');
  return value;
}

const PRIORITIES = Object.values(TaskPriority) as string[];

/** `--priority`: LOW, NORMAL, HIGH or CRITICAL, in any case. */
export function parsePriority(text: string): TaskPriority {
  const upper = text.toUpperCase();
  if (!PRIORITIES.includes(upper)) throw new UsageError(`--priority: must be one of ${PRIORITIES.join(', ')}, not "${text}"`);
  return upper as TaskPriority;
}

const STATUSES = Object.values(TaskStatus) as string[];

/** `--status`: one of the task statuses, in any case. */
export function parseStatus(text: string): TaskStatus {
  const upper = text.toUpperCase();
  if (!STATUSES.includes(upper)) throw new UsageError(`--status: must be one of ${STATUSES.join(', ')}, not "${text}"`);
  return upper as TaskStatus;
}

/** A whole number of at least `min` for the option `name`. */
export function parseWholeNumber(name: string, text: string, min = 1): number {
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${name}: must be a whole number of at least ${min}, not "${text}"`);
  }
  return Number(text);
}

/** A task type as the orchestrator names them. */
export function parseTaskType(text: string): string {
  if (!TASK_TYPE_PATTERN.test(text)) throw new UsageError(`task_type: must match ${TASK_TYPE_PATTERN.source}, not "${text}"`);
  return text;
}

/** A task id for a submission without `--task-id`: the task type and 12 random hex digits. */
export function newTaskId(taskType: string): string {
  return `${taskType}-${randomBytes(6).toString('hex')}`;
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A moment for the option `name`: an ISO 8601 date-time (`2030-01-01T08:00:00Z`), seconds since the
 * epoch (`1893484800`), or a time from now (`+10m`, `-2h`; units s, m, h, d).
 */
export function parseTime(name: string, text: string, now = Date.now()): Date {
  const relative = /^([+-])(\d+)([smhd])$/.exec(text);
  if (relative) {
    const [, sign, amount, unit] = relative;
    return new Date(now + (sign === '-' ? -1 : 1) * Number(amount) * (UNIT_MS[unit ?? 's'] ?? 1_000));
  }
  const at = /^\d+(\.\d+)?$/.test(text) ? new Date(Number(text) * 1000) : /^\d{4}-\d{2}-\d{2}/.test(text) ? new Date(text) : new Date(Number.NaN);
  if (Number.isNaN(at.getTime())) throw new UsageError(`${name}: must be an ISO 8601 time, seconds since the epoch or +10m / -2h (s, m, h, d), not "${text}"`);
  return at;
}
