import { isPlainObject, isRatePeriod, type Budget, type RateLimit } from '@orchestrator/contracts';
import { checkExpression, evaluateExpression, type ExpressionScope } from './expression.js';

/**
 * The policies a workflow file may set beside its steps: how many runs of it go at once per key
 * (`concurrency`), how fast a step may be sent (`rate_limit`), and what a run may spend (`budget`).
 * The schema (schemas/workflow.schema.json) checks their shape; this file reads them, checks their
 * expressions, and evaluates keys.
 */

export type ConcurrencyStrategy = 'queue' | 'cancel_in_progress' | 'cancel_newest';

/** `concurrency:` at the top of a workflow file: at most `max_runs` runs per key at once. */
export interface ConcurrencyPolicy {
  /** A CEL expression over the request; null: the task type is the key. */
  key: string | null;
  max_runs: number;
  strategy: ConcurrencyStrategy;
}

/** `rate_limit:` of a step: one bucket per step of the workflow, or per value of `key` (CEL over the request and the step's prerequisites). */
export interface StepRateLimit extends RateLimit {
  key?: string;
}

/** The longest key a CEL expression may give (concurrency and rate-limit keys). */
export const KEY_MAX_LENGTH = 256;

const STRATEGIES: readonly ConcurrencyStrategy[] = ['queue', 'cancel_in_progress', 'cancel_newest'];

const whole = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) ? value : undefined);
const number = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

export function readConcurrency(value: unknown): ConcurrencyPolicy | undefined {
  if (!isPlainObject(value)) return undefined;
  const maxRuns = whole(value['max_runs']);
  if (maxRuns === undefined) return undefined;
  const strategy = STRATEGIES.find((one) => one === value['strategy']) ?? 'queue';
  return { key: typeof value['key'] === 'string' ? value['key'] : null, max_runs: maxRuns, strategy };
}

export function readRateLimit(value: unknown): StepRateLimit | undefined {
  if (!isPlainObject(value)) return undefined;
  const limit = whole(value['limit']);
  const per = value['per'];
  if (limit === undefined || !isRatePeriod(per)) return undefined;
  return { limit, per, ...(typeof value['key'] === 'string' ? { key: value['key'] } : {}) };
}

export function readBudget(value: unknown): Budget | undefined {
  if (!isPlainObject(value)) return undefined;
  const budget: Budget = {};
  const tokens = number(value['max_tokens']);
  const cost = number(value['max_cost']);
  if (tokens !== undefined) budget.max_tokens = tokens;
  if (cost !== undefined) budget.max_cost = cost;
  return budget;
}

/** A key expression reads the request only: it is evaluated before anything runs. */
const REQUEST_ONLY: ExpressionScope = { stepIds: new Set(), canRead: () => false, perItem: false };

/** Problems of `concurrency.key`, each a reason without its place. */
export function checkConcurrencyKey(source: string): string[] {
  return checkExpression(source, REQUEST_ONLY);
}

/**
 * The sub-tasks a plan may send in all: each step's items (1 for a step without `for_each`, or
 * whose list is not known yet) times its attempts, summed.
 */
export function subtaskCount(steps: readonly { max_attempts: number; items: number }[]): number {
  return steps.reduce((sum, step) => sum + step.items * step.max_attempts, 0);
}

/**
 * The value of a key expression (concurrency or rate-limit key) as the key's text: a string,
 * integer or boolean, at most KEY_MAX_LENGTH characters. Throws with the reason.
 */
export function evaluateKey(source: string, context: Record<string, unknown>): string {
  const value = evaluateExpression(source, context);
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw new Error(`gave ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}; a key must be a string, a number or a boolean`);
  }
  const key = String(value);
  if (key.length === 0) throw new Error('gave an empty string; a key must not be empty');
  if (key.length > KEY_MAX_LENGTH) throw new Error(`gave ${key.length} characters; a key has at most ${KEY_MAX_LENGTH}`);
  return key;
}

/** The request as a concurrency key reads it. */
export interface KeyedRequest {
  task_id: string;
  task_type: string;
  priority: string;
  payload: Record<string, unknown>;
  requester_id?: string;
}

/** The key of a run under its workflow's concurrency policy: the key expression's value, or the task type. Throws with the reason. */
export function concurrencyKeyOf(policy: ConcurrencyPolicy, request: KeyedRequest): string {
  if (policy.key === null) return request.task_type;
  const { task_id, task_type, priority, payload, requester_id } = request;
  return evaluateKey(policy.key, { request: { task_id, task_type, priority, payload, ...(requester_id === undefined ? {} : { requester_id }) } });
}

/**
 * Where a run's key is counted: keys are counted per workflow (task type), so that two workflows
 * keyed by the same value keep their own limits.
 */
export function storedConcurrencyKey(taskType: string, key: string): string {
  // A task type has no slash: the first one ends it.
  return `${taskType}/${key}`;
}

/** The key as the policy gave it, from its stored form. */
export function shownConcurrencyKey(stored: string): string {
  const at = stored.indexOf('/');
  return at < 0 ? stored : stored.slice(at + 1);
}
