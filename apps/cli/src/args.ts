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
