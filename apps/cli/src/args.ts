import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isPlainObject, TaskPriority, TASK_TYPE_PATTERN, TaskStatus } from '@orchestrator/contracts';
import { UsageError } from './cli-error.js';

/**
 * `--payload`: a JSON object, or `@file` to read it from a file (`@-`: standard input).
 * The orchestrator checks the fields; this checks only that it is an object.
 */
export function parsePayload(
  text: string,
  read: (path: string) => string = (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
  option = '--payload',
): Record<string, unknown> {
  let source = text;
  if (text.startsWith('@')) {
    try {
      source = read(text.slice(1));
    } catch (error) {
      throw new UsageError(`${option}: cannot read ${text.slice(1)}: ${(error as Error).message}`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    throw new UsageError(`${option}: not JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(value)) throw new UsageError(`${option}: must be a JSON object, e.g. '{"topic":"Graphs"}'`);
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

const AGO = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A time for a filter: ISO 8601 (`2026-11-30`, `2026-11-30T12:00:00Z`) or how long ago (`30m`, `2h`, `7d`). */
export function parseTime(name: string, text: string, now = Date.now()): string {
  const ago = AGO.exec(text);
  if (ago) return new Date(now - Number(ago[1]) * UNIT_MS[ago[2] as keyof typeof UNIT_MS]).toISOString();
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) || Number.isNaN(Date.parse(text))) {
    throw new UsageError(`${name}: must be an ISO 8601 time (2026-11-30, 2026-11-30T12:00:00Z) or how long ago (30m, 2h, 7d), not "${text}"`);
  }
  return text;
}

/** `--payload <field>=<value>` for a search, repeated: the fields and their values. */
export function parsePayloadFields(pairs: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--payload: must be <field>=<value> (e.g. customer=42, address.city=Paris), not "${pair}"`);
    fields[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return fields;
}
