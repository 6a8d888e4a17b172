import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { AGENT_NAME_PATTERN } from '@orchestrator/contracts';

/**
 * `schemas/workflow.schema.json`, the JSON Schema of workflow files: editors read it (the
 * `# yaml-language-server: $schema=` line of each file) and the loader validates with it, so both
 * see the same rules. It sits at the repository root, four levels above this file in src/ and dist/.
 */
export const WORKFLOW_SCHEMA_PATH = new URL('../../../../schemas/workflow.schema.json', import.meta.url).pathname;

/** One problem the schema found: where (`steps[0] (draft).timeout_ms`, or empty for the whole file) and why. */
export interface SchemaProblem {
  where: string;
  message: string;
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  // verbose: each error carries the schema and the data it is about, to word the message from them.
  compiled ??= new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false }).compile(JSON.parse(readFileSync(WORKFLOW_SCHEMA_PATH, 'utf8')) as object);
  return compiled;
}

/** Every way `raw` breaks the schema, in the words the loader uses for its other problems. */
export function schemaProblems(raw: unknown): SchemaProblem[] {
  const validate = validator();
  if (validate(raw)) return [];
  const errors = validate.errors ?? [];
  // A failed anyOf reports the errors of each branch too; its own description says it all.
  const anyOfs = errors.filter((error) => error.keyword === 'anyOf').map((error) => `${error.schemaPath}/`);
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    // `if` only says which branch failed; the branch's own errors follow.
    if (error.keyword === 'if' || anyOfs.some((prefix) => error.schemaPath.startsWith(prefix))) continue;
    const problem = describe(raw, error);
    const key = `${problem.where}\n${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

/** `/steps/0/backoff/max_ms` as `steps[0] (draft).backoff.max_ms`: the step named by its id where it has one. */
export function placeOf(raw: unknown, pointer: string): string {
  let place = '';
  let value = raw;
  for (const segment of pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))) {
    value = isIndexable(value) ? (value as Record<string, unknown>)[segment] : undefined;
    if (/^\d+$/.test(segment)) {
      const id = place === 'steps' && isIndexable(value) ? (value as Record<string, unknown>)['id'] : undefined;
      place += `[${segment}]${typeof id === 'string' ? ` (${id})` : ''}`;
    } else place += place ? `.${segment}` : segment;
  }
  return place;
}

const isIndexable = (value: unknown): boolean => typeof value === 'object' && value !== null;
const isStep = (pointer: string): boolean => /^\/steps\/\d+$/.test(pointer);
const lastSegment = (pointer: string): string => pointer.slice(pointer.lastIndexOf('/') + 1);
const parentOf = (pointer: string): string => pointer.slice(0, pointer.lastIndexOf('/'));

function describe(raw: unknown, error: ErrorObject): SchemaProblem {
  const where = placeOf(raw, error.instancePath);
  const schema = (error.parentSchema ?? {}) as Record<string, unknown>;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const field = String(params['missingProperty']);
      // A step's own fields are named beside the step, as the loader's other step problems are.
      if (isStep(error.instancePath)) return { where, message: `${field} is required` };
      return { where: where ? `${where}.${field}` : field, message: 'is required' };
    }
    case 'additionalProperties': {
      const allowed = Object.keys(schema['properties'] ?? {}).filter((key) => key !== '$schema');
      return { where, message: `unknown field "${String(params['additionalProperty'])}" (allowed: ${allowed.join(', ')})` };
    }
    case 'type':
      // Saying what was found helps with YAML, where `yes`, `1.0` or `[a]` are not what they seem.
      return { where, message: schema['type'] === 'integer' ? typeMessage(schema) : `${typeMessage(schema)}, not ${kindOf(error.data)}` };
    case 'minimum':
    case 'maximum':
      return { where, message: typeMessage(schema) };
    case 'minItems':
      return { where, message: params['limit'] === 1 ? 'must be a non-empty list' : `must have at least ${String(params['limit'])} items` };
    case 'maxItems': {
      const field = lastSegment(error.instancePath);
      const count = Array.isArray(error.data) ? error.data.length : 0;
      return { where, message: `has ${count} ${field === 'steps' ? 'steps' : 'items'}; at most ${String(params['limit'])} are allowed` };
    }
    case 'pattern': {
      const pattern = String(params['pattern']);
      const what = pattern === AGENT_NAME_PATTERN.source ? `is not an agent name (must match ${pattern})` : `must match ${pattern}`;
      const value = JSON.stringify(error.data);
      // A step's names are told beside the step: `steps[0] (a): agent "a.>" is not an agent name`.
      if (isStep(parentOf(error.instancePath))) return { where: placeOf(raw, parentOf(error.instancePath)), message: `${lastSegment(error.instancePath)} ${value} ${what}` };
      return { where, message: `${value} ${what}` };
    }
    case 'enum':
      return { where, message: `must be one of ${(params['allowedValues'] as unknown[]).map(String).join(', ')}` };
    case 'const':
      return { where, message: `must be ${JSON.stringify(params['allowedValue'])}` };
    case 'not':
    case 'anyOf':
      // The schema says why in the description beside the keyword.
      return { where, message: typeof schema['description'] === 'string' ? schema['description'] : (error.message ?? 'is not valid') };
    default:
      return { where, message: error.message ?? 'is not valid' };
  }
}

function typeMessage(schema: Record<string, unknown>): string {
  switch (schema['type']) {
    case 'integer':
      return `must be an integer from ${String(schema['minimum'])} to ${String(schema['maximum'])}`;
    case 'string':
      return 'must be a string';
    case 'boolean':
      return 'must be true or false';
    case 'object':
      return 'must be a mapping';
    case 'array':
      return (schema['items'] as Record<string, unknown> | undefined)?.['type'] === 'string' ? 'must be a list of strings' : 'must be a list';
    default:
      return `must be ${String(schema['type'])}`;
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}
