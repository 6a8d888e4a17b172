import { Script, createContext } from 'node:vm';
import { Environment, type ASTNode, type ParseResult } from '@marcbachmann/cel-js';
import { isPlainObject } from '@orchestrator/contracts/json';
import { ExpressionError } from './expression-error.js';
import { ExpressionMeter, meterExpression, withMeter, type ExpressionBudget } from './expression-meter.js';

export { ExpressionError } from './expression-error.js';

/**
 * Expressions in workflow definitions (`when`, `for_each`, `$expr`) are CEL, the Common Expression
 * Language: no loops, no user-defined functions, no access to anything but the data handed in.
 * CEL terminates by design, but may build much (a string doubled at every level of nested
 * comprehensions) or take long (a regular expression, comprehensions nested over long lists)
 * before it does: every evaluation is metered while it runs (steps, and the size of what it
 * builds: see ExpressionMeter) and runs under a time limit. At run time evaluations run in worker
 * threads (ExpressionPool), never on the event loop.
 */
export const EXPRESSION_LIMITS = {
  maxLength: 1_000,
  maxAstNodes: 200,
  maxDepth: 32,
  /** Wall-clock time: generous enough for a machine under heavy load, short enough to stop a runaway evaluation. */
  timeoutMs: 1_000,
  /** What one evaluation may do by default (EXPRESSION_MAX_STEPS, EXPRESSION_MAX_BYTES, EXPRESSION_MAX_ITEMS). */
  budget: { maxSteps: 100_000, maxBytes: 16 * 1024 * 1024, maxItems: 100_000 } satisfies ExpressionBudget,
} as const;

/** The variables an expression may read; `item` and `index` only in the input of a `for_each` step. */
const DATA_ROOTS = new Set(['request', 'steps', 'item', 'index']);

const environment = new Environment({
  unlistedVariablesAreDyn: false,
  homogeneousAggregateLiterals: false,
  limits: {
    maxAstNodes: EXPRESSION_LIMITS.maxAstNodes,
    maxDepth: EXPRESSION_LIMITS.maxDepth,
    maxListElements: 100,
    maxMapEntries: 100,
  },
})
  .registerVariable('request', 'map<string, dyn>')
  .registerVariable('steps', 'map<string, dyn>')
  .registerVariable('item', 'dyn')
  .registerVariable('index', 'int');

/** What an expression may reference: the steps that exist, those that will have run before it, and whether it runs per item. */
export interface ExpressionScope {
  stepIds: ReadonlySet<string>;
  canRead: (stepId: string) => boolean;
  perItem: boolean;
  /**
   * Whether an expression that reads no data is evaluated when checked (default true). Not for
   * a planner's plans: checked on the event loop, where no expression runs; theirs are evaluated
   * when they run, in a worker.
   */
  constants?: boolean;
}

const COMPILED_CACHE_SIZE = 1_000;
const compiled = new Map<string, ParseResult>();

function compile(source: string): ParseResult {
  const known = compiled.get(source);
  if (known) return known;
  if (source.length > EXPRESSION_LIMITS.maxLength) {
    throw new ExpressionError('EXPRESSION_INVALID', `is ${source.length} characters long; at most ${EXPRESSION_LIMITS.maxLength} are allowed`);
  }
  let parsed: ParseResult;
  try {
    parsed = environment.parse(source);
  } catch (error) {
    throw new ExpressionError('EXPRESSION_INVALID', `is not a valid CEL expression: ${firstLine(error)}`);
  }
  if (compiled.size >= COMPILED_CACHE_SIZE) compiled.delete(compiled.keys().next().value as string);
  compiled.set(source, meterExpression(parsed));
  return parsed;
}

// One context serves every evaluation: the script only calls back into this module, and the
// watchdog behind `timeout` stops whatever runs under it, the CEL evaluator included.
const sandbox = createContext(Object.create(null) as object);
const runner = new Script('run()');

function bounded<T>(work: () => T, timeoutMs: number): T {
  let out: T | undefined;
  (sandbox as { run?: () => void }).run = () => {
    out = work();
  };
  try {
    runner.runInContext(sandbox, { timeout: timeoutMs });
  } catch (error) {
    if (error instanceof ExpressionError) throw error;
    if ((error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new ExpressionError('EXPRESSION_TIMEOUT', `did not finish within ${timeoutMs} ms (EXPRESSION_TIMEOUT_MS)`);
    }
    throw new ExpressionError('EXPRESSION_FAILED', `failed: ${firstLine(error)}`);
  }
  return out as T;
}

/**
 * Evaluates an expression against `context` (plain JSON) within the time limit and the budget, and
 * returns its value as plain JSON. Throws ExpressionError.
 */
export function evaluateExpression(
  source: string,
  context: Record<string, unknown>,
  budget: ExpressionBudget = EXPRESSION_LIMITS.budget,
  timeoutMs: number = EXPRESSION_LIMITS.timeoutMs,
): unknown {
  const expression = compile(source);
  // Converted inside the limit: a large context costs time too.
  const value = bounded(
    () => withMeter(new ExpressionMeter(budget), () => expression(Object.fromEntries(Object.entries(context).map(([key, item]) => [key, asCelData(item)]))) as unknown),
    timeoutMs,
  );
  return toJson(value);
}

/** Data already converted, by the object it was converted from: the context of many items of a for_each is converted once. */
const converted = new WeakMap<object, unknown>();

/**
 * JSON objects as Maps: cel-js tells an object's type by its `constructor`, which a JSON object
 * may have as a field of its own; a Map is always a CEL map, whatever its keys. The data handed in
 * is never changed afterwards (a context gains results by copy), so its conversion is kept.
 */
function asCelData(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const known = converted.get(value);
  if (known !== undefined) return known;
  const out = Array.isArray(value) ? value.map(asCelData) : new Map(Object.entries(value).map(([key, item]) => [key, asCelData(item)]));
  converted.set(value, out);
  return out;
}

/** Every problem of an expression, each a reason without its place; empty when it is sound. */
export function checkExpression(source: unknown, scope: ExpressionScope, expects?: 'bool' | 'list'): string[] {
  if (typeof source !== 'string' || source.trim() === '') return ['must be a CEL expression (a non-empty string)'];
  let expression: ParseResult;
  try {
    expression = compile(source);
  } catch (error) {
    return [(error as Error).message];
  }
  const problems: string[] = [];
  const checked = expression.check();
  if (!checked.valid) problems.push(`does not type-check: ${firstLine(checked.error)}`);
  else if (expects && checked.type !== 'dyn' && !checked.type?.startsWith(expects)) {
    problems.push(`must give ${expects === 'bool' ? 'true or false' : 'a list'}, not ${checked.type ?? 'unknown'}`);
  }
  const uses = readsOf(expression.ast);
  for (const misuse of uses.misuses) problems.push(misuse);
  if (uses.perItem && !scope.perItem) problems.push('item and index are there only in the input of a step with for_each');
  for (const step of uses.steps) {
    if (!scope.stepIds.has(step)) problems.push(`steps.${step}: no step "${step}"`);
    else if (!scope.canRead(step)) problems.push(`steps.${step}: step "${step}" is not a prerequisite (add it to depends_on)`);
  }
  // An expression that reads no data gives the same value every time: evaluate it now, so one
  // that fails or runs too long is refused with the plan instead of failing the workflow later.
  if (problems.length === 0 && !uses.readsData && scope.constants !== false) {
    try {
      const value = evaluateExpression(source, {});
      if (expects === 'bool' && typeof value !== 'boolean') problems.push('must give true or false');
      if (expects === 'list' && !Array.isArray(value)) problems.push('must give a list');
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return problems;
}

/** The data an expression reads: the steps (`steps.<id>`) and whether it reads the request. Throws ExpressionError when it does not compile. */
export function expressionReads(source: string): { steps: ReadonlySet<string>; request: boolean } {
  const { steps, request } = readsOf(compile(source).ast);
  return { steps, request };
}

/** The steps an expression reads (`steps.<id>`), whether it reads any data (the request), and misuses of `steps`. */
function readsOf(ast: ASTNode): { steps: Set<string>; readsData: boolean; request: boolean; perItem: boolean; misuses: string[] } {
  const steps = new Set<string>();
  const misuses: string[] = [];
  let readsData = false;
  let request = false;
  let perItem = false;
  const visit = (node: ASTNode): void => {
    if (node.op === '.' && node.args[0].op === 'id' && node.args[0].args === 'steps') {
      steps.add(node.args[1]);
      readsData = true;
      return;
    }
    if (node.op === 'id') {
      if (node.args === 'steps') misuses.push('steps must be followed by .<step id>, e.g. steps.review.result');
      if (DATA_ROOTS.has(node.args)) readsData = true;
      if (node.args === 'item' || node.args === 'index') perItem = true;
      if (node.args === 'request') request = true;
      return;
    }
    if (node.op === 'value') return;
    walkArgs(node.args, visit);
  };
  visit(ast);
  return { steps, readsData, request, perItem, misuses };
}

function walkArgs(args: unknown, visit: (node: ASTNode) => void): void {
  if (Array.isArray(args)) {
    for (const arg of args) walkArgs(arg, visit);
  } else if (isAstNode(args)) {
    visit(args);
  }
}

function isAstNode(value: unknown): value is ASTNode {
  return typeof value === 'object' && value !== null && 'op' in value && 'args' in value;
}

/** CEL values as plain JSON: integers are BigInt in CEL, and some CEL types have no JSON form. */
export function toJson(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ExpressionError('EXPRESSION_FAILED', `gave ${value}, which is not a JSON number`);
    return value;
  }
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ExpressionError('EXPRESSION_FAILED', `gave ${value}, which is too large for a JSON number`);
    }
    return Number(value);
  }
  if (Array.isArray(value)) return value.map(toJson);
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new ExpressionError('EXPRESSION_FAILED', 'gave a timestamp out of range');
    return value.toISOString();
  }
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of value.entries()) {
      const name = String(key);
      if (Object.hasOwn(out, name)) throw new ExpressionError('EXPRESSION_FAILED', `gave a map with two keys written "${name}"`);
      Object.defineProperty(out, name, { value: toJson(item), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  if (isPlainObject(value) && isJsonObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, key, { value: toJson(item), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  // bytes, uint, duration, type: CEL values with no JSON form (convert them, e.g. with int() or string()).
  throw new ExpressionError('EXPRESSION_FAILED', `gave a value with no JSON form (${describe(value)}); convert it, e.g. with string() or int()`);
}

/** An object made as JSON is: a plain or prototype-less one, not an instance of a class. */
export function isJsonObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return 'bytes';
  const maker: unknown = typeof value === 'object' && value !== null ? (value as { constructor?: unknown }).constructor : undefined;
  if (typeof maker === 'function' && maker.name) return maker.name;
  return typeof value;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
