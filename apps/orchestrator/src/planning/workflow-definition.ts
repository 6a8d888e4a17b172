import { AGENT_NAME_PATTERN, isAgentName, isPlainObject, ORCHESTRATOR_AGENT_NAME, TASK_TYPE_PATTERN } from '@orchestrator/contracts';
import { isReference } from './plan.js';

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
  depends_on: string[];
  input: unknown;
  timeout_ms?: number;
  max_attempts?: number;
  backoff?: BackoffPolicy;
  fallbacks: string[];
  optional: boolean;
  description?: string;
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
  /** The file it was read from. */
  source: string;
}

export const LIMITS = {
  maxSteps: 100,
  timeoutMs: { min: 100, max: 86_400_000 },
  maxAttempts: { min: 1, max: 100 },
} as const;

const STEP_ID = /^[a-z][a-z0-9_]{0,63}$/;
const FIELD_TYPES: readonly PayloadFieldType[] = ['string', 'number', 'integer', 'boolean', 'object', 'array'];
const REQUEST_FIELDS = new Set(['task_id', 'task_type', 'priority', 'payload']);

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

  backoff(where: string, value: unknown): BackoffPolicy | undefined {
    if (value === undefined) return undefined;
    if (!isPlainObject(value)) {
      this.add(where, 'must be an object { initial_ms, max_ms }');
      return undefined;
    }
    this.onlyKeys(where, value, ['initial_ms', 'max_ms']);
    const initial = this.integer(`${where}.initial_ms`, value['initial_ms'] ?? Number.NaN, { min: 0, max: LIMITS.timeoutMs.max });
    const max = this.integer(`${where}.max_ms`, value['max_ms'] ?? Number.NaN, { min: 0, max: LIMITS.timeoutMs.max });
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
    if (typeof type !== 'string' || !FIELD_TYPES.includes(type as PayloadFieldType)) {
      problems.add(`${where}.type`, `must be one of ${FIELD_TYPES.join(', ')}`);
      continue;
    }
    if (spec['required'] !== undefined && typeof spec['required'] !== 'boolean') problems.add(`${where}.required`, 'must be true or false');
    const field: PayloadField = { type: type as PayloadFieldType, required: spec['required'] === true };
    const maxLength = problems.integer(`${where}.max_length`, spec['max_length'], { min: 1, max: 10_000_000 });
    if (maxLength !== undefined) field.max_length = maxLength;
    if (typeof spec['description'] === 'string') field.description = spec['description'];
    fields[name] = field;
  }
  return fields;
}

function parseStep(problems: Problems, value: unknown, index: number): StepDefinition | undefined {
  const label = isPlainObject(value) && typeof value['id'] === 'string' ? `steps[${index}] (${value['id']})` : `steps[${index}]`;
  if (!isPlainObject(value)) {
    problems.add(label, 'must be an object');
    return undefined;
  }
  problems.onlyKeys(label, value, [
    'id', 'agent', 'capability', 'workflow', 'task_type', 'depends_on', 'input', 'timeout_ms', 'max_attempts', 'backoff', 'fallbacks', 'optional', 'description',
  ]);
  const { id, capability } = value;
  // `workflow: <task_type>` runs another workflow as this step: a sub-task to the orchestrator itself.
  const workflow = value['workflow'];
  if (workflow !== undefined && (value['agent'] !== undefined || capability !== undefined || value['task_type'] !== undefined)) {
    problems.add(label, 'a step with a workflow names no agent, capability or task_type');
    return undefined;
  }
  const agent = workflow !== undefined ? ORCHESTRATOR_AGENT_NAME : value['agent'];
  const task_type = workflow ?? value['task_type'] ?? capability;
  let valid = true;
  if (typeof id !== 'string' || !STEP_ID.test(id)) {
    problems.add(label, `id must match ${STEP_ID.source}`);
    valid = false;
  }
  if (agent === undefined && capability === undefined) {
    problems.add(label, 'needs an agent, a capability, or both');
    valid = false;
  }
  if (agent !== undefined && !isAgentName(agent)) {
    problems.add(label, `agent ${JSON.stringify(agent)} is not an agent name (must match ${AGENT_NAME_PATTERN.source})`);
    valid = false;
  }
  if (capability !== undefined && (typeof capability !== 'string' || !TASK_TYPE_PATTERN.test(capability))) {
    problems.add(label, `capability must match ${TASK_TYPE_PATTERN.source}`);
    valid = false;
  }
  if (typeof task_type !== 'string' || !TASK_TYPE_PATTERN.test(task_type)) {
    problems.add(label, `task_type must match ${TASK_TYPE_PATTERN.source}`);
    valid = false;
  }
  const fallbacks = stringList(problems, `${label}.fallbacks`, value['fallbacks']);
  for (const fallback of fallbacks) {
    if (!isAgentName(fallback)) problems.add(`${label}.fallbacks`, `${JSON.stringify(fallback)} is not an agent name`);
  }
  if (value['optional'] !== undefined && typeof value['optional'] !== 'boolean') problems.add(`${label}.optional`, 'must be true or false');
  if (!valid) return undefined;
  const step: StepDefinition = {
    id: id as string,
    agent: (agent as string | undefined) ?? null,
    capability: (capability as string | undefined) ?? null,
    task_type: task_type as string,
    depends_on: stringList(problems, `${label}.depends_on`, value['depends_on']),
    input: value['input'] ?? {},
    fallbacks,
    optional: value['optional'] === true,
  };
  const timeout = problems.integer(`${label}.timeout_ms`, value['timeout_ms'], LIMITS.timeoutMs);
  if (timeout !== undefined) step.timeout_ms = timeout;
  const attempts = problems.integer(`${label}.max_attempts`, value['max_attempts'], LIMITS.maxAttempts);
  if (attempts !== undefined) step.max_attempts = attempts;
  const backoff = problems.backoff(`${label}.backoff`, value['backoff']);
  if (backoff) step.backoff = backoff;
  if (typeof value['description'] === 'string') step.description = value['description'];
  return step;
}

/** The steps each step transitively depends on; null when there is a cycle (reported). */
function prerequisites(problems: Problems, steps: StepDefinition[]): Map<string, Set<string>> | null {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const result = new Map<string, Set<string>>();
  const visiting: string[] = [];
  let cyclic = false;
  const visit = (id: string): Set<string> => {
    const known = result.get(id);
    if (known) return known;
    const at = visiting.indexOf(id);
    if (at >= 0) {
      if (!cyclic) problems.add('steps', `depends_on forms a cycle: ${[...visiting.slice(at), id].join(' -> ')}`);
      cyclic = true;
      return new Set();
    }
    visiting.push(id);
    const all = new Set<string>();
    for (const dep of byId.get(id)?.depends_on ?? []) {
      if (!byId.has(dep)) continue;
      all.add(dep);
      for (const transitive of visit(dep)) all.add(transitive);
    }
    visiting.pop();
    result.set(id, all);
    return all;
  };
  for (const step of steps) visit(step.id);
  return cyclic ? null : result;
}

/** Reports every `$ref` that could not resolve: unknown roots, steps that will not have run yet, malformed forms. */
function checkReferences(
  problems: Problems,
  where: string,
  template: unknown,
  canRead: (stepId: string) => boolean,
  stepIds: ReadonlySet<string>,
): void {
  if (isPlainObject(template) && '$ref' in template) {
    if (!isReference(template)) {
      problems.add(where, '$ref must be a string path');
      return;
    }
    for (const key of Object.keys(template)) {
      if (key !== '$ref' && key !== 'default') problems.add(where, `unknown field "${key}" in a $ref (allowed: $ref, default)`);
    }
    const [root, second, third] = template.$ref.split('.');
    if (root === 'request') {
      if (!second || !REQUEST_FIELDS.has(second)) problems.add(where, `$ref ${template.$ref}: request has ${[...REQUEST_FIELDS].join(', ')}`);
    } else if (root === 'steps') {
      if (!second || !stepIds.has(second)) problems.add(where, `$ref ${template.$ref}: no step "${second ?? ''}"`);
      else if (!canRead(second)) problems.add(where, `$ref ${template.$ref}: step "${second}" is not a prerequisite (add it to depends_on)`);
      else if (third !== undefined && third !== 'result') problems.add(where, `$ref ${template.$ref}: a step has only a result`);
    } else {
      problems.add(where, `$ref ${template.$ref}: must start with request. or steps.`);
    }
    return;
  }
  if (Array.isArray(template)) {
    template.forEach((item, i) => checkReferences(problems, `${where}[${i}]`, item, canRead, stepIds));
  } else if (isPlainObject(template)) {
    for (const [key, value] of Object.entries(template)) checkReferences(problems, `${where}.${key}`, value, canRead, stepIds);
  }
}

/**
 * Reads one definition (already parsed from YAML or JSON) and returns it with every problem found,
 * each naming the file and the place. A definition with problems must not be used.
 */
export function parseWorkflowDefinition(
  raw: unknown,
  source: string,
  expectedTaskType?: string,
): { definition?: WorkflowDefinition; problems: string[] } {
  const problems = new Problems(source);
  if (!isPlainObject(raw)) {
    problems.add('', 'must be a mapping with task_type, version and steps');
    return { problems: problems.list };
  }
  problems.onlyKeys('', raw, ['task_type', 'version', 'description', 'payload', 'defaults', 'timeout_ms', 'steps', 'output']);
  const taskType = raw['task_type'];
  if (typeof taskType !== 'string' || !TASK_TYPE_PATTERN.test(taskType)) {
    problems.add('task_type', `must match ${TASK_TYPE_PATTERN.source}`);
  } else if (expectedTaskType !== undefined && taskType !== expectedTaskType) {
    problems.add('task_type', `"${taskType}" must equal the file name "${expectedTaskType}"`);
  }
  const version = problems.integer('version', raw['version'] ?? Number.NaN, { min: 1, max: Number.MAX_SAFE_INTEGER });
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

  const rawSteps = raw['steps'];
  const steps: StepDefinition[] = [];
  if (!Array.isArray(rawSteps) || rawSteps.length === 0) {
    problems.add('steps', 'must be a non-empty list');
  } else if (rawSteps.length > LIMITS.maxSteps) {
    problems.add('steps', `has ${rawSteps.length} steps; at most ${LIMITS.maxSteps} are allowed`);
  } else {
    rawSteps.forEach((value, index) => {
      const step = parseStep(problems, value, index);
      if (step) steps.push(step);
    });
  }

  const ids = new Set<string>();
  for (const step of steps) {
    if (ids.has(step.id)) problems.add(`steps (${step.id})`, 'duplicate step id');
    ids.add(step.id);
  }
  for (const step of steps) {
    for (const dep of step.depends_on) {
      if (dep === step.id) problems.add(`steps (${step.id})`, 'depends_on names the step itself');
      else if (!ids.has(dep)) problems.add(`steps (${step.id})`, `depends_on names unknown step "${dep}"`);
    }
  }
  const before = prerequisites(problems, steps);
  if (before) {
    for (const step of steps) {
      const mine = before.get(step.id) ?? new Set<string>();
      checkReferences(problems, `steps (${step.id}).input`, step.input, (id) => mine.has(id), ids);
    }
    checkReferences(problems, 'output', raw['output'], (id) => ids.has(id), ids);
  }

  if (problems.list.length > 0 || typeof taskType !== 'string' || version === undefined) return { problems: problems.list };
  const definition: WorkflowDefinition = { task_type: taskType, version, payload, defaults, steps, source };
  if (typeof raw['description'] === 'string') definition.description = raw['description'];
  if (timeoutMs !== undefined) definition.timeout_ms = timeoutMs;
  if (raw['output'] !== undefined) definition.output = raw['output'];
  return { definition, problems: [] };
}
