import { isPlainObject, ORCHESTRATOR_AGENT_NAME, TASK_TYPE_PATTERN, type Budget } from '@orchestrator/contracts';
import { checkExpression, isJsonObject, type ExpressionScope } from './expression.js';
import { walkGraph } from './graph.js';
import { checkConcurrencyKey, readBudget, readConcurrency, readRateLimit, type ConcurrencyPolicy, type StepRateLimit } from './policies.js';
import { isReference } from './template.js';
import { readSleep, readWaitFor, waitTaskType, type SleepDefinition, type WaitForDefinition } from './wait-definition.js';
import { schemaProblems } from './workflow-schema.js';

export interface BackoffPolicy {
  initial_ms: number;
  max_ms: number;
}

export type PayloadFieldType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';

export interface PayloadField {
  type: PayloadFieldType;
  required: boolean;
  max_length?: number;
  description?: string;
}

export interface StepDefinition {
  id: string;
  /** A named agent, or null when any live agent offering `capability` may do the step. */
  agent: string | null;
  capability: string | null;
  task_type: string;
  /** `workflow: <task_type>`: the step runs that workflow (agent orchestrator_agent, task_type the workflow's). */
  workflow?: string;
  depends_on: string[];
  input: unknown;
  timeout_ms?: number;
  max_attempts?: number;
  backoff?: BackoffPolicy;
  fallbacks: string[];
  optional: boolean;
  description?: string;
  /** A CEL condition on the data so far: when false the step is skipped (completed with no work). */
  when?: string;
  /** A CEL expression giving a list: one sub-task per item, `concurrency` of them at a time. */
  for_each?: string;
  concurrency?: number;
  /** At most `limit` sub-tasks of this step per `per`, across replicas (one bucket per value of `key`). */
  rate_limit?: StepRateLimit;
  /** The step waits for a signal or an external event instead of being sent to an agent. */
  wait_for?: WaitForDefinition;
  /** The step sleeps for a time, or until one. */
  sleep?: SleepDefinition;
}

export interface ReplanPolicy {
  max_revisions: number;
}

export interface WorkflowDefinition {
  task_type: string;
  version: number;
  description?: string;
  payload: Record<string, PayloadField>;
  defaults: { timeout_ms?: number; max_attempts?: number; backoff?: BackoffPolicy };
  timeout_ms?: number;
  steps: StepDefinition[];
  output?: unknown;
  /** When a step fails for good, ask the planner agent for a revised plan of the remaining work, at most this many times. */
  replan?: ReplanPolicy;
  /** At most `max_runs` runs per key at once; the others wait QUEUED, or are cancelled (`strategy`). */
  concurrency?: ConcurrencyPolicy;
  /** What one run may spend (usage its agents report); past it the run fails. */
  budget?: Budget;
  /**
   * Whose turn this workflow's steps take when agents are busy: a CEL expression over the request
   * (`request.payload.customer`, say). Without it, the request's requester_id.
   */
  fairness?: { key: string };
  /**
   * `plan: dynamic`: the file declares the payload and the policies (defaults, timeout, replan) but
   * no steps; the planner agent plans each request. Its `steps` are then empty.
   */
  dynamic?: true;
  /** The file it was read from. */
  source: string;
}

export const LIMITS = {
  maxSteps: 100,
  timeoutMs: { min: 100, max: 86_400_000 },
  maxAttempts: { min: 1, max: 100 },
  /** Items a `for_each` step may expand to, and how many of them run at once by default. */
  forEachMaxItems: 1_000,
  concurrency: { min: 1, max: 1_000, default: 10 },
  maxRevisions: { min: 1, max: 10 },
} as const;

/** A step's id; the schema (schemas/workflow.schema.json) says the same, and a spec keeps them equal. */
export const STEP_ID_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** What `request.<field>` may name; only the payload has fields of its own. */
const REQUEST_FIELDS = ['task_id', 'task_type', 'priority', 'payload'] as const;

/** Collects every problem of one definition, each prefixed with where it is. */
class Problems {
  readonly list: string[] = [];
  constructor(private readonly source: string) {}

  add(where: string, message: string): void {
    this.list.push(`${this.source}: ${where ? `${where}: ` : ''}${message}`);
  }

  /** What the schema cannot say about a backoff: it grows, never shrinks. */
  backoff(where: string, value: BackoffPolicy | undefined): void {
    if (value && value.initial_ms > value.max_ms) this.add(where, 'initial_ms must not exceed max_ms');
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const whole = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) ? value : undefined);
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

function readBackoff(value: unknown): BackoffPolicy | undefined {
  if (!isPlainObject(value)) return undefined;
  const initial = whole(value['initial_ms']);
  const max = whole(value['max_ms']);
  return initial === undefined || max === undefined ? undefined : { initial_ms: initial, max_ms: max };
}

function readPayload(value: unknown): Record<string, PayloadField> {
  const fields: Record<string, PayloadField> = {};
  if (!isPlainObject(value)) return fields;
  for (const [name, spec] of Object.entries(value)) {
    if (!isPlainObject(spec)) continue;
    const field: PayloadField = { type: spec['type'] as PayloadFieldType, required: spec['required'] === true };
    const maxLength = whole(spec['max_length']);
    if (maxLength !== undefined) field.max_length = maxLength;
    const description = text(spec['description']);
    if (description !== undefined) field.description = description;
    fields[name] = field;
  }
  return fields;
}

/** A step as read, with where it is for messages. */
interface ParsedStep {
  step: StepDefinition;
  label: string;
}

/**
 * Reads a step for the checks the schema cannot make (graph, references, expressions). It takes
 * what it can from a step the schema refused too, so that one run reports every problem; such a
 * definition is never used. A step without a valid id cannot take part and is left out.
 */
function readStep(value: unknown, index: number): ParsedStep | undefined {
  if (!isPlainObject(value)) return undefined;
  const id = value['id'];
  if (typeof id !== 'string' || !STEP_ID_PATTERN.test(id)) return undefined;
  // `workflow: <task_type>` runs another workflow as this step: a sub-task to the orchestrator itself.
  const workflow = text(value['workflow']);
  const capability = workflow === undefined ? text(value['capability']) : undefined;
  // A step that waits (`wait_for`, `sleep`) is sent to nobody; its row's task_type names its kind.
  const waitFor = readWaitFor(value['wait_for'], readPayload);
  const sleep = readSleep(value['sleep']);
  const step: StepDefinition = {
    id,
    agent: workflow !== undefined ? ORCHESTRATOR_AGENT_NAME : (text(value['agent']) ?? null),
    capability: capability ?? null,
    task_type: workflow ?? text(value['task_type']) ?? capability ?? waitTaskType(waitFor, sleep) ?? '',
    ...(workflow !== undefined ? { workflow } : {}),
    depends_on: strings(value['depends_on']),
    input: value['input'] ?? {},
    fallbacks: strings(value['fallbacks']),
    optional: value['optional'] === true,
    ...(waitFor ? { wait_for: waitFor } : {}),
    ...(sleep ? { sleep } : {}),
  };
  const timeout = whole(value['timeout_ms']);
  if (timeout !== undefined) step.timeout_ms = timeout;
  const attempts = whole(value['max_attempts']);
  if (attempts !== undefined) step.max_attempts = attempts;
  const backoff = readBackoff(value['backoff']);
  if (backoff) step.backoff = backoff;
  const description = text(value['description']);
  if (description !== undefined) step.description = description;
  // The expressions are checked with the references, once every step is known.
  for (const key of ['when', 'for_each'] as const) {
    const expression = text(value[key]);
    if (expression !== undefined) step[key] = expression;
  }
  const concurrency = whole(value['concurrency']);
  if (concurrency !== undefined && step.for_each !== undefined) step.concurrency = concurrency;
  const rateLimit = readRateLimit(value['rate_limit']);
  if (rateLimit) step.rate_limit = rateLimit;
  return { step, label: `steps[${index}] (${id})` };
}

/** The steps each step transitively depends on; null when there is a cycle (reported). */
function prerequisites(problems: Problems, steps: StepDefinition[]): Map<string, Set<string>> | null {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const dependencies = (id: string): string[] => (byId.get(id)?.depends_on ?? []).filter((dep) => byId.has(dep) && dep !== id);
  const { cycles } = walkGraph(byId.keys(), dependencies);
  for (const cycle of cycles) problems.add('steps', `depends_on forms a cycle: ${cycle.join(' -> ')}`);
  if (cycles.length > 0) return null;
  const result = new Map<string, Set<string>>();
  const visit = (id: string): Set<string> => {
    const known = result.get(id);
    if (known) return known;
    const all = new Set<string>();
    for (const dep of dependencies(id)) {
      all.add(dep);
      for (const transitive of visit(dep)) all.add(transitive);
    }
    result.set(id, all);
    return all;
  };
  for (const step of steps) visit(step.id);
  return result;
}

/** What a template may read: the steps that will have run, which of them may have no result, and whether it runs per item. */
interface Readable extends ExpressionScope {
  optional: ReadonlySet<string>;
}

/** Checks one `$ref` path: a known root, a field that exists, a step that will have run. */
function checkPath(path: string, hasDefault: boolean, readable: Readable): string | undefined {
  const segments = path.split('.');
  if (segments.some((segment) => segment === '')) return 'has an empty segment';
  const [root, second, third] = segments;
  if (root === 'request') {
    if (!REQUEST_FIELDS.includes(second as (typeof REQUEST_FIELDS)[number])) return `request has only ${REQUEST_FIELDS.join(', ')}`;
    if (second !== 'payload' && third !== undefined) return `request.${second} is a string and has no fields`;
    return undefined;
  }
  if (root === 'steps') {
    if (second === undefined || !readable.stepIds.has(second)) return `no step "${second ?? ''}"`;
    if (!readable.canRead(second)) return `step "${second}" is not a prerequisite (add it to depends_on)`;
    if (third !== 'result') return `a step has only a result: write steps.${second}.result`;
    if (readable.optional.has(second) && !hasDefault) {
      return `step "${second}" is optional or has a when condition and may have no result; give the reference a default`;
    }
    return undefined;
  }
  if (root === 'item' || root === 'index') {
    if (!readable.perItem) return `${root} is there only in the input of a step with for_each`;
    if (root === 'index' && second !== undefined) return 'index is a number and has no fields';
    return undefined;
  }
  return `must start with request. or steps.${readable.perItem ? ', or be item or index' : ''}`;
}

/**
 * Reports every `$ref` that could not resolve (unknown roots, steps that will not have run yet,
 * malformed forms) and every value that is not plain JSON, since plans are stored as JSON.
 */
function checkTemplate(problems: Problems, where: string, template: unknown, readable: Readable): void {
  if (isPlainObject(template) && '$expr' in template) {
    if (Object.keys(template).length !== 1) problems.add(where, 'an $expr stands alone (no other fields beside it)');
    for (const problem of checkExpression(template['$expr'], readable)) problems.add(where, `$expr ${problem}`);
    return;
  }
  if (isPlainObject(template) && '$ref' in template) {
    if (!isReference(template)) {
      problems.add(where, '$ref must be a string path');
      return;
    }
    for (const key of Object.keys(template)) {
      if (key !== '$ref' && key !== 'default') problems.add(where, `unknown field "${key}" in a $ref (allowed: $ref, default)`);
    }
    const wrong = checkPath(template.$ref, 'default' in template, readable);
    if (wrong) problems.add(where, `$ref ${template.$ref}: ${wrong}`);
    if ('default' in template) checkLiteral(problems, `${where}.default`, template.default);
    return;
  }
  if (Array.isArray(template)) {
    template.forEach((item, i) => checkTemplate(problems, `${where}[${i}]`, item, readable));
  } else if (isPlainObject(template)) {
    if (!isJsonObject(template)) problems.add(where, 'must be plain JSON');
    for (const [key, value] of Object.entries(template)) checkTemplate(problems, `${where}.${key}`, value, readable);
  } else {
    checkScalar(problems, where, template);
  }
}

/** A default is used as it is: plain JSON with no references in it. */
function checkLiteral(problems: Problems, where: string, value: unknown): void {
  if (Array.isArray(value)) value.forEach((item, i) => checkLiteral(problems, `${where}[${i}]`, item));
  else if (isPlainObject(value)) {
    if ('$ref' in value || '$expr' in value) problems.add(where, 'a default is a literal value and cannot hold a $ref or an $expr');
    else if (!isJsonObject(value)) problems.add(where, 'must be plain JSON');
    else for (const [key, item] of Object.entries(value)) checkLiteral(problems, `${where}.${key}`, item);
  } else checkScalar(problems, where, value);
}

function checkScalar(problems: Problems, where: string, value: unknown): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number' && Number.isFinite(value)) return;
  problems.add(where, `${typeof value === 'number' ? String(value) : `a ${typeof value}`} is not a JSON value`);
}


/**
 * Reads one definition (already parsed from YAML or JSON) and returns it with every problem found,
 * each naming the file and the place. The shape of the file is checked against
 * schemas/workflow.schema.json; what a schema cannot say (the file name, the graph of steps,
 * templates and expressions) is checked here. A definition with problems must not be used. `done`
 * names steps a revised plan builds on: finished already, so its steps may depend on them and
 * read their results, but not take their ids.
 */
export function parseWorkflowDefinition(
  raw: unknown,
  source: string,
  expectedTaskType?: string,
  done: ReadonlySet<string> = new Set(),
): { definition?: WorkflowDefinition; problems: string[] } {
  const problems = new Problems(source);
  if (!isPlainObject(raw)) {
    problems.add('', 'must be a mapping with task_type, version and steps');
    return { problems: problems.list };
  }
  for (const problem of schemaProblems(raw)) problems.add(problem.where, problem.message);
  const taskType = raw['task_type'];
  if (typeof taskType === 'string' && expectedTaskType !== undefined && taskType !== expectedTaskType && TASK_TYPE_PATTERN.test(taskType)) {
    problems.add('task_type', `"${taskType}" must equal the file name "${expectedTaskType}"`);
  }
  const defaults: WorkflowDefinition['defaults'] = {};
  if (isPlainObject(raw['defaults'])) {
    const timeout = whole(raw['defaults']['timeout_ms']);
    if (timeout !== undefined) defaults.timeout_ms = timeout;
    const attempts = whole(raw['defaults']['max_attempts']);
    if (attempts !== undefined) defaults.max_attempts = attempts;
    const backoff = readBackoff(raw['defaults']['backoff']);
    if (backoff) defaults.backoff = backoff;
    problems.backoff('defaults.backoff', backoff);
  }

  const dynamic = raw['plan'] === 'dynamic';
  const rawSteps = raw['steps'];
  // The planner's plan of a dynamic workflow is checked when it comes.
  const parsed: ParsedStep[] = [];
  if (!dynamic && Array.isArray(rawSteps) && rawSteps.length <= LIMITS.maxSteps) {
    rawSteps.forEach((value, index) => {
      const step = readStep(value, index);
      if (step) parsed.push(step);
    });
  }
  for (const { step, label } of parsed) problems.backoff(`${label}.backoff`, step.backoff);

  const ids = new Set<string>();
  const unique: ParsedStep[] = [];
  for (const one of parsed) {
    if (ids.has(one.step.id)) problems.add(one.label, `duplicate step id "${one.step.id}"`);
    else if (done.has(one.step.id)) problems.add(one.label, `step "${one.step.id}" is already done in this workflow; give the new step another id`);
    else unique.push(one);
    ids.add(one.step.id);
  }
  for (const { step, label } of unique) {
    for (const dep of step.depends_on) {
      if (dep === step.id) problems.add(label, 'depends_on names the step itself');
      else if (!ids.has(dep) && !done.has(dep)) problems.add(label, `depends_on names unknown step "${dep}"`);
    }
  }
  const steps = unique.map((p) => p.step);
  const before = prerequisites(problems, steps);
  if (before) {
    const known = new Set([...ids, ...done]);
    const optional = new Set(steps.filter((step) => step.optional || step.when !== undefined).map((step) => step.id));
    for (const { step, label } of unique) {
      const mine = before.get(step.id) ?? new Set<string>();
      const scope = { stepIds: known, canRead: (id: string) => done.has(id) || mine.has(id), optional, perItem: false };
      if (step.when !== undefined) for (const problem of checkExpression(step.when, scope, 'bool')) problems.add(`${label}.when`, problem);
      if (step.for_each !== undefined) for (const problem of checkExpression(step.for_each, scope, 'list')) problems.add(`${label}.for_each`, problem);
      if (step.rate_limit?.key !== undefined) for (const problem of checkExpression(step.rate_limit.key, scope)) problems.add(`${label}.rate_limit.key`, problem);
      checkTemplate(problems, `${label}.input`, step.input, { ...scope, perItem: step.for_each !== undefined });
      if (step.wait_for?.match) checkTemplate(problems, `${label}.wait_for.match`, step.wait_for.match, scope);
      if (step.sleep?.until !== undefined) for (const problem of checkExpression(step.sleep.until, scope)) problems.add(`${label}.sleep.until`, problem);
    }
    if (isPlainObject(raw['fairness'])) {
      const none = new Set<string>();
      for (const problem of checkExpression(raw['fairness']['key'], { stepIds: none, canRead: () => false, perItem: false })) {
        problems.add('fairness.key', problem);
      }
    }
    if (raw['output'] !== undefined) {
      checkTemplate(problems, 'output', raw['output'], { stepIds: known, canRead: (id) => known.has(id), optional, perItem: false });
    }
  }

  const concurrency = readConcurrency(raw['concurrency']);
  if (concurrency && concurrency.key !== null) for (const problem of checkConcurrencyKey(concurrency.key)) problems.add('concurrency.key', problem);

  if (problems.list.length > 0) return { problems: problems.list };
  // The schema has passed: every field below is there and of its type where it is required.
  const definition: WorkflowDefinition = { task_type: taskType as string, version: raw['version'] as number, payload: readPayload(raw['payload']), defaults, steps, source };
  const description = text(raw['description']);
  if (description !== undefined) definition.description = description;
  const timeoutMs = whole(raw['timeout_ms']);
  if (timeoutMs !== undefined) definition.timeout_ms = timeoutMs;
  if (raw['output'] !== undefined) definition.output = raw['output'];
  const maxRevisions = isPlainObject(raw['replan']) ? whole(raw['replan']['max_revisions']) : undefined;
  if (maxRevisions !== undefined) definition.replan = { max_revisions: maxRevisions };
  if (isPlainObject(raw['fairness']) && typeof raw['fairness']['key'] === 'string') definition.fairness = { key: raw['fairness']['key'] };
  if (concurrency) definition.concurrency = concurrency;
  const budget = readBudget(raw['budget']);
  if (budget) definition.budget = budget;
  if (dynamic) definition.dynamic = true;
  return { definition, problems: [] };
}
