import { isPlainObject } from '@orchestrator/contracts';
import { evaluateExpression } from './expression.js';
import { TemplateError } from './planning.errors.js';

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

/** Evaluates a CEL expression of a plan (`when`, `for_each`, `$expr`) against the workflow's data. */
export function evaluate(source: string, context: TemplateContext): unknown {
  const { index, ...rest } = context;
  return evaluateExpression(source, index === undefined ? rest : { ...rest, index: BigInt(index) });
}

/** Builds a value from a template: references replaced by what they point at, `$expr` by its value. */
export function resolveTemplate(template: unknown, context: TemplateContext): unknown {
  if (isExpression(template)) return evaluate(template.$expr, context);
  if (isReference(template)) {
    const value = lookupPath(context, template.$ref.split('.'));
    if (value !== undefined) return value;
    if ('default' in template) return template.default;
    throw new TemplateError(template.$ref);
  }
  if (Array.isArray(template)) return template.map((item) => resolveTemplate(item, context));
  if (isPlainObject(template)) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(template)) out[key] = resolveTemplate(value, context);
    return out;
  }
  return template;
}
