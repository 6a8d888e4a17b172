import { isPlainObject } from '@orchestrator/contracts/json';
import { evaluateExpression, EXPRESSION_LIMITS } from './expression.js';
import type { ExpressionBudget } from './expression-meter.js';
import { TemplateError } from './planning.errors.js';

/** What one evaluation may do and how long it may take. */
type Bounds = ExpressionBudget & { timeoutMs: number };
const DEFAULT_BOUNDS: Bounds = { ...EXPRESSION_LIMITS.budget, timeoutMs: EXPRESSION_LIMITS.timeoutMs };

/** What a template (a step's input, a plan's output) and an expression read. */
export interface TemplateContext {
  request: { task_id: string; task_type: string; priority: string; payload: Record<string, unknown> };
  steps: Record<string, { result: unknown }>;
  /** In the input of a `for_each` step: the item and its position in the list. */
  item?: unknown;
  index?: number;
}

/** `{ $ref: 'a.b', default?: v }`: the only special form in a template; `default` is used as it is. */
export function isReference(value: unknown): value is { $ref: string; default?: unknown } {
  return isPlainObject(value) && typeof value['$ref'] === 'string';
}

export function lookupPath(root: unknown, path: readonly string[]): unknown {
  let current = root;
  for (const segment of path) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else if (isPlainObject(current) && Object.hasOwn(current, segment)) current = current[segment];
    else return undefined;
  }
  return current;
}

/** `{ $expr: '<CEL>' }`: a value computed from the data by a bounded CEL expression. */
export function isExpression(value: unknown): value is { $expr: string } {
  return isPlainObject(value) && typeof value['$expr'] === 'string';
}

/** Evaluates a CEL expression of a plan (`when`, `for_each`, `$expr`) against the workflow's data, in this thread. */
export function evaluate(source: string, context: TemplateContext, bounds: Bounds = DEFAULT_BOUNDS): unknown {
  const { index, ...rest } = context;
  return evaluateExpression(source, index === undefined ? rest : { ...rest, index: BigInt(index) }, bounds, bounds.timeoutMs);
}

/** True when a template holds an `$expr` somewhere: resolving it evaluates CEL. */
export function hasExpression(template: unknown): boolean {
  if (isExpression(template)) return true;
  if (Array.isArray(template)) return template.some(hasExpression);
  return isPlainObject(template) && !isReference(template) && Object.values(template).some(hasExpression);
}

/** Builds a value from a template, in this thread: references replaced by what they point at, `$expr` by its value. */
export function resolveTemplate(template: unknown, context: TemplateContext, bounds: Bounds = DEFAULT_BOUNDS): unknown {
  if (isExpression(template)) return evaluate(template.$expr, context, bounds);
  if (isReference(template)) {
    const value = lookupPath(context, template.$ref.split('.'));
    if (value !== undefined) return value;
    if ('default' in template) return template.default;
    throw new TemplateError(template.$ref);
  }
  if (Array.isArray(template)) return template.map((item) => resolveTemplate(item, context, bounds));
  if (isPlainObject(template)) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(template)) out[key] = resolveTemplate(value, context, bounds);
    return out;
  }
  return template;
}
