import { AGENT_NAME_PATTERN, isAgentName, isPlainObject, ORCHESTRATOR_AGENT_NAME, TASK_TYPE_PATTERN } from '@orchestrator/contracts';
import { checkExpression, isJsonObject, type ExpressionScope } from './expression.js';
import { walkGraph } from './graph.js';
import { isReference } from './template.js';

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

const STEP_ID = /^[a-z][a-z0-9_]{0,63}$/;
const FIELD_TYPES: readonly PayloadFieldType[] = ['string', 'number', 'integer', 'boolean', 'object', 'array'];
/** What `request.<field>` may name; only the payload has fields of its own. */
const REQUEST_FIELDS = ['task_id', 'task_type', 'priority', 'payload'] as const;
const TOP_LEVEL_FIELDS = ['task_type', 'version', 'description', 'payload', 'defaults', 'timeout_ms', 'steps', 'output', 'replan', 'plan'];
const STEP_FIELDS = [
  'id', 'agent', 'capability', 'workflow', 'task_type', 'depends_on', 'input', 'timeout_ms', 'max_attempts', 'backoff', 'fallbacks', 'optional', 'description',
  'when', 'for_each', 'concurrency',
];

/** Collects every problem of one definition, each prefixed with where it is. */
class Problems {
  readonly list: string[] = [];
  constructor(private readonly source: string) {}

  add(where: string, message: string): void {
    this.list.push(`${this.source}: ${where ? `${where}: ` : ''}${message}`);
  }

  /** Reports keys that the schema does not know. */
  onlyKeys(where: string, value: Record<string, unknown>, allowed: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.add(where, `unknown field "${key}" (allowed: ${allowed.join(', ')})`);
    }
  }

  integer(where: string, value: unknown, range: { min: number; max: number }): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
      this.add(where, `must be an integer from ${range.min} to ${range.max}`);
      return undefined;
    }
    return value;
  }

  text(where: string, value: unknown): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      this.add(where, 'must be a string');
      return undefined;
    }
    return value;
  }

  flag(where: string, value: unknown): boolean {
    if (value !== undefined && typeof value !== 'boolean') this.add(where, 'must be true or false');
    return value === true;
  }

  backoff(where: string, value: unknown): BackoffPolicy | undefined {
    if (value === undefined) return undefined;
    if (!isPlainObject(value)) {
      this.add(where, 'must be an object { initial_ms, max_ms }');
      return undefined;
    }
    this.onlyKeys(where, value, ['initial_ms', 'max_ms']);
    const range = { min: 0, max: LIMITS.timeoutMs.max };
    for (const key of ['initial_ms', 'max_ms']) if (value[key] === undefined) this.add(`${where}.${key}`, 'is required');
    const initial = this.integer(`${where}.initial_ms`, value['initial_ms'], range);
    const max = this.integer(`${where}.max_ms`, value['max_ms'], range);
    if (initial === undefined || max === undefined) return undefined;
    if (initial > max) this.add(where, 'initial_ms must not exceed max_ms');
    return { initial_ms: initial, max_ms: max };
  }
}

function stringList(problems: Problems, where: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    problems.add(where, 'must be a list of strings');
    return [];
  }
  return value;
}

function parsePayload(problems: Problems, value: unknown): Record<string, PayloadField> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    problems.add('payload', 'must map field names to { type, required?, max_length? }');
    return {};
  }
  const fields: Record<string, PayloadField> = {};
  for (const [name, spec] of Object.entries(value)) {
    const where = `payload.${name}`;
    if (!isPlainObject(spec)) {
      problems.add(where, 'must be an object { type, required?, max_length? }');
      continue;
    }
    problems.onlyKeys(where, spec, ['type', 'required', 'max_length', 'description']);
    const type = spec['type'];
    if (type === undefined) {
      problems.add(`${where}.type`, 'is required');
      continue;
    }
    if (typeof type !== 'string' || !FIELD_TYPES.includes(type as PayloadFieldType)) {
      problems.add(`${where}.type`, `must be one of ${FIELD_TYPES.join(', ')}`);
      continue;
    }
    const field: PayloadField = { type: type as PayloadFieldType, required: problems.flag(`${where}.required`, spec['required']) };
    const maxLength = problems.integer(`${where}.max_length`, spec['max_length'], { min: 1, max: 10_000_000 });
    if (maxLength !== undefined) {
      if (type === 'string' || type === 'array') field.max_length = maxLength;
      else problems.add(`${where}.max_length`, 'applies to string and array fields only');
    }
    const description = problems.text(`${where}.description`, spec['description']);
    if (description !== undefined) field.description = description;
    fields[name] = field;
  }
  return fields;
}

/** A step as read, with where it is for messages; `usable` is false when a problem makes it unplannable. */
interface ParsedStep {
  step: StepDefinition;
  label: string;
  usable: boolean;
}

function parseStep(problems: Problems, value: unknown, index: number): ParsedStep | undefined {
  const label = isPlainObject(value) && typeof value['id'] === 'string' ? `steps[${index}] (${value['id']})` : `steps[${index}]`;
  if (!isPlainObject(value)) {
    problems.add(label, 'must be an object');
    return undefined;
  }
  problems.onlyKeys(label, value, STEP_FIELDS);
  const { id, capability } = value;
  if (id === undefined) problems.add(label, 'id is required');
  else if (typeof id !== 'string' || !STEP_ID.test(id)) problems.add(label, `id ${JSON.stringify(id)} must match ${STEP_ID.source}`);
  const hasId = typeof id === 'string' && STEP_ID.test(id);
  let usable = hasId;
  // `workflow: <task_type>` runs another workflow as this step: a sub-task to the orchestrator itself.
  const workflow = value['workflow'];
  if (workflow !== undefined && (value['agent'] !== undefined || capability !== undefined || value['task_type'] !== undefined)) {
    problems.add(label, 'a step with a workflow names no agent, capability or task_type');
    usable = false;
  }
  const agent = workflow !== undefined ? ORCHESTRATOR_AGENT_NAME : value['agent'];
  const task_type = workflow ?? value['task_type'] ?? capability;
  if (agent === undefined && capability === undefined) {
    problems.add(label, 'needs an agent, a capability, or both');
    usable = false;
  }
  if (agent !== undefined && !isAgentName(agent)) {
    problems.add(label, `agent ${JSON.stringify(agent)} is not an agent name (must match ${AGENT_NAME_PATTERN.source})`);
    usable = false;
  }
  if (capability !== undefined && (typeof capability !== 'string' || !TASK_TYPE_PATTERN.test(capability))) {
    problems.add(label, `capability ${JSON.stringify(capability)} must match ${TASK_TYPE_PATTERN.source}`);
    usable = false;
  }
  if (task_type === undefined) {
    if (agent !== undefined) problems.add(label, 'task_type is required');
    usable = false;
  } else if (typeof task_type !== 'string' || !TASK_TYPE_PATTERN.test(task_type)) {
    problems.add(label, `${workflow !== undefined ? 'workflow' : 'task_type'} ${JSON.stringify(task_type)} must match ${TASK_TYPE_PATTERN.source}`);
    usable = false;
  }
  const fallbacks = stringList(problems, `${label}.fallbacks`, value['fallbacks']);
  for (const fallback of fallbacks) {
    if (!isAgentName(fallback)) problems.add(`${label}.fallbacks`, `${JSON.stringify(fallback)} is not an agent name`);
  }
  const input = value['input'] ?? {};
  if (!isPlainObject(input)) problems.add(`${label}.input`, 'must be a mapping (the sub-task payload), or a $ref to one');
  if (!hasId) return undefined;
  const step: StepDefinition = {
    id: id,
    agent: typeof agent === 'string' ? agent : null,
    capability: typeof capability === 'string' ? capability : null,
    task_type: typeof task_type === 'string' ? task_type : '',
    ...(typeof workflow === 'string' ? { workflow } : {}),
    depends_on: stringList(problems, `${label}.depends_on`, value['depends_on']),
    input,
    fallbacks,
    optional: problems.flag(`${label}.optional`, value['optional']),
  };
  const timeout = problems.integer(`${label}.timeout_ms`, value['timeout_ms'], LIMITS.timeoutMs);
  if (timeout !== undefined) step.timeout_ms = timeout;
  const attempts = problems.integer(`${label}.max_attempts`, value['max_attempts'], LIMITS.maxAttempts);
  if (attempts !== undefined) step.max_attempts = attempts;
  const backoff = problems.backoff(`${label}.backoff`, value['backoff']);
  if (backoff) step.backoff = backoff;
  const description = problems.text(`${label}.description`, value['description']);
  if (description !== undefined) step.description = description;
  // The expressions are checked with the references, once every step is known.
  for (const key of ['when', 'for_each'] as const) {
    if (value[key] === undefined) continue;
    if (typeof value[key] === 'string') step[key] = value[key];
    else problems.add(`${label}.${key}`, 'must be a CEL expression (a string)');
  }
  const concurrency = problems.integer(`${label}.concurrency`, value['concurrency'], LIMITS.concurrency);
  if (concurrency !== undefined) {
    if (value['for_each'] === undefined) problems.add(`${label}.concurrency`, 'applies to a step with for_each only');
    else step.concurrency = concurrency;
  }
  return { step, label, usable };
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
 * each naming the file and the place. A definition with problems must not be used. `done` names
 * steps a revised plan builds on: finished already, so its steps may depend on them and read their
 * results, but not take their ids.
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
  problems.onlyKeys('', raw, TOP_LEVEL_FIELDS);
  const taskType = raw['task_type'];
  if (taskType === undefined) problems.add('task_type', 'is required');
  else if (typeof taskType !== 'string' || !TASK_TYPE_PATTERN.test(taskType)) {
    problems.add('task_type', `${JSON.stringify(taskType)} must match ${TASK_TYPE_PATTERN.source}`);
  } else if (expectedTaskType !== undefined && taskType !== expectedTaskType) {
    problems.add('task_type', `"${taskType}" must equal the file name "${expectedTaskType}"`);
  }
  if (raw['version'] === undefined) problems.add('version', 'is required');
  const version = problems.integer('version', raw['version'], { min: 1, max: Number.MAX_SAFE_INTEGER });
  const description = problems.text('description', raw['description']);
  const payload = parsePayload(problems, raw['payload']);
  const defaults: WorkflowDefinition['defaults'] = {};
  if (raw['defaults'] !== undefined) {
    if (!isPlainObject(raw['defaults'])) problems.add('defaults', 'must be an object');
    else {
      const d = raw['defaults'];
      problems.onlyKeys('defaults', d, ['timeout_ms', 'max_attempts', 'backoff']);
      const timeout = problems.integer('defaults.timeout_ms', d['timeout_ms'], LIMITS.timeoutMs);
      if (timeout !== undefined) defaults.timeout_ms = timeout;
      const attempts = problems.integer('defaults.max_attempts', d['max_attempts'], LIMITS.maxAttempts);
      if (attempts !== undefined) defaults.max_attempts = attempts;
      const backoff = problems.backoff('defaults.backoff', d['backoff']);
      if (backoff) defaults.backoff = backoff;
    }
  }
  const timeoutMs = problems.integer('timeout_ms', raw['timeout_ms'], LIMITS.timeoutMs);
  let replan: ReplanPolicy | undefined;
  if (raw['replan'] !== undefined) {
    if (!isPlainObject(raw['replan'])) problems.add('replan', 'must be a mapping with max_revisions');
    else {
      problems.onlyKeys('replan', raw['replan'], ['max_revisions']);
      if (raw['replan']['max_revisions'] === undefined) problems.add('replan.max_revisions', 'is required');
      const max = problems.integer('replan.max_revisions', raw['replan']['max_revisions'], LIMITS.maxRevisions);
      if (max !== undefined) replan = { max_revisions: max };
    }
  }

  const dynamic = raw['plan'] === 'dynamic';
  if (raw['plan'] !== undefined && !dynamic) problems.add('plan', 'must be "dynamic" (or absent, with steps)');
  if (dynamic) {
    for (const key of ['steps', 'output'] as const) {
      if (raw[key] !== undefined) problems.add(key, 'comes from the planner agent in a workflow with plan: dynamic; remove it');
    }
  }
  const rawSteps = raw['steps'];
  const parsed: ParsedStep[] = [];
  if (dynamic) {
    // The planner's plan is checked when it comes.
  } else if (rawSteps === undefined) problems.add('steps', 'is required');
  else if (!Array.isArray(rawSteps) || rawSteps.length === 0) {
    problems.add('steps', 'must be a non-empty list');
  } else if (rawSteps.length > LIMITS.maxSteps) {
    problems.add('steps', `has ${rawSteps.length} steps; at most ${LIMITS.maxSteps} are allowed`);
  } else {
    rawSteps.forEach((value, index) => {
      const step = parseStep(problems, value, index);
      if (step) parsed.push(step);
    });
  }

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
      checkTemplate(problems, `${label}.input`, step.input, { ...scope, perItem: step.for_each !== undefined });
    }
    if (raw['output'] !== undefined) {
      checkTemplate(problems, 'output', raw['output'], { stepIds: known, canRead: (id) => known.has(id), optional, perItem: false });
    }
  }

  if (problems.list.length > 0 || !parsed.every((p) => p.usable) || typeof taskType !== 'string' || version === undefined) return { problems: problems.list };
  const definition: WorkflowDefinition = { task_type: taskType, version, payload, defaults, steps, source };
  if (description !== undefined) definition.description = description;
  if (timeoutMs !== undefined) definition.timeout_ms = timeoutMs;
  if (raw['output'] !== undefined) definition.output = raw['output'];
  if (replan) definition.replan = replan;
  if (dynamic) definition.dynamic = true;
  return { definition, problems: [] };
}
