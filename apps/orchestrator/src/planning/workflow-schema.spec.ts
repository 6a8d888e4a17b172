import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { AGENT_NAME_PATTERN, TASK_TYPE_PATTERN } from '@orchestrator/contracts';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { WorkflowCatalog } from './workflow-catalog.service.js';
import { LIMITS, parseWorkflowDefinition, STEP_ID_PATTERN } from './workflow-definition.js';
import { schemaProblems, WORKFLOW_SCHEMA_PATH } from './workflow-schema.js';

const ROOT = join(dirname(WORKFLOW_SCHEMA_PATH), '..');
const schema = JSON.parse(readFileSync(WORKFLOW_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
/** The schema's value at a path of keys. */
const at = (path: string): unknown => path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], schema);
// `schedules` beside workflows holds schedule files, which name a task_type too.
const SKIPPED = new Set(['node_modules', '.git', '.data', 'dist', 'coverage', '.venv', '__pycache__', '.pytest_cache', '.mypy_cache', 'schedules']);

/** Every workflow file of the repository: YAML or JSON holding a mapping with a task_type. */
function workflowFiles(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : workflowFiles(path);
    if (!['.yaml', '.yml', '.json'].includes(extname(entry.name))) return [];
    const raw = parse(readFileSync(path, 'utf8')) as unknown;
    return typeof raw === 'object' && raw !== null && 'task_type' in raw ? [path] : [];
  });
}

function problemsOf(raw: Record<string, unknown>): string[] {
  return parseWorkflowDefinition({ task_type: 'flow', version: 1, ...raw }, 'workflows/flow.yaml', 'flow').problems;
}

describe('the workflow schema (schemas/workflow.schema.json)', () => {
  it('words what it refuses as the loader words its other problems: file, step, field, reason', () => {
    const step = { id: 'draft', agent: 'llm_agent', task_type: 'generate' };
    // An unknown field, with the fields allowed there.
    expect(problemsOf({ steps: [{ ...step, timeout: 5 }] })).toEqual([
      'workflows/flow.yaml: steps[0] (draft): unknown field "timeout" (allowed: id, agent, capability, workflow, task_type, depends_on, input, timeout_ms, max_attempts, backoff, fallbacks, optional, description, when, for_each, concurrency, rate_limit, wait_for, sleep)',
    ]);
    // A wrong type, saying what was found.
    expect(problemsOf({ steps: [{ ...step, optional: 'yes', depends_on: 'x' }] })).toEqual([
      'workflows/flow.yaml: steps[0] (draft).depends_on: must be a list of strings, not a string',
      'workflows/flow.yaml: steps[0] (draft).optional: must be true or false, not a string',
    ]);
    expect(problemsOf({ steps: [{ ...step, max_attempts: 2.5 }] })).toEqual(['workflows/flow.yaml: steps[0] (draft).max_attempts: must be an integer from 1 to 100']);
    // A missing required field, beside the step for a step's own fields.
    expect(problemsOf({ steps: [{ id: 'draft', agent: 'llm_agent' }], defaults: { backoff: { initial_ms: 1 } } })).toEqual([
      'workflows/flow.yaml: defaults.backoff.max_ms: is required',
      'workflows/flow.yaml: steps[0] (draft): task_type is required',
    ]);
    expect(parseWorkflowDefinition({ steps: [step] }, 'workflows/flow.yaml', 'flow').problems).toEqual([
      'workflows/flow.yaml: task_type: is required',
      'workflows/flow.yaml: version: is required',
    ]);
    // A bad enum value, with the values allowed.
    expect(problemsOf({ payload: { topic: { type: 'text' } }, steps: [step] })).toEqual([
      'workflows/flow.yaml: payload.topic.type: must be one of string, number, integer, boolean, object, array',
    ]);
    // Rules of one field on another, worded in the schema.
    expect(problemsOf({ steps: [{ id: 'inner', workflow: 'other', capability: 'x' }, { ...step, id: 'fan', concurrency: 2 }] })).toEqual([
      'workflows/flow.yaml: steps[0] (inner).capability: a step with a workflow names no agent, capability or task_type',
      'workflows/flow.yaml: steps[1] (fan).concurrency: applies to a step with for_each only',
    ]);
  });

  it('accepts $schema in a JSON workflow file', () => {
    expect(problemsOf({ $schema: '../schemas/workflow.schema.json', steps: [{ id: 'a', capability: 'work' }] })).toEqual([]);
  });

  it('says what the code says about names and limits', () => {
    const range = (path: string): unknown[] => [at(`${path}.minimum`), at(`${path}.maximum`)];
    expect(at('definitions.agentName.pattern')).toBe(AGENT_NAME_PATTERN.source);
    expect(at('definitions.taskType.pattern')).toBe(TASK_TYPE_PATTERN.source);
    expect(at('properties.task_type.pattern')).toBe(TASK_TYPE_PATTERN.source);
    expect(at('definitions.step.properties.id.pattern')).toBe(STEP_ID_PATTERN.source);
    expect(range('definitions.timeoutMs')).toEqual([LIMITS.timeoutMs.min, LIMITS.timeoutMs.max]);
    expect(range('definitions.maxAttempts')).toEqual([LIMITS.maxAttempts.min, LIMITS.maxAttempts.max]);
    expect(range('definitions.step.properties.concurrency')).toEqual([LIMITS.concurrency.min, LIMITS.concurrency.max]);
    expect(range('properties.replan.properties.max_revisions')).toEqual([LIMITS.maxRevisions.min, LIMITS.maxRevisions.max]);
    expect(at('properties.steps.maxItems')).toBe(LIMITS.maxSteps);
  });

  const files = workflowFiles();

  it('finds the workflow files of the repository', () => {
    const found = files.map((file) => relative(ROOT, file));
    expect(found).toContain('workflows/create_blog_post.yaml');
    expect(found).toContain(join('test', 'fixtures', 'workflows', 'e2e_pair.yaml'));
    expect(found).toContain(join('test', 'fixtures', 'engine', 'e2e_race.yaml'));
  });

  it.each(files.map((file) => [relative(ROOT, file), file]))('%s names the schema, is valid against it, and loads', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    const schemaPath = relative(dirname(file), WORKFLOW_SCHEMA_PATH);
    const raw = parse(text) as Record<string, unknown>;
    if (extname(file) === '.json') expect(raw['$schema']).toBe(schemaPath);
    else expect(text.split('\n')[0]).toBe(`# yaml-language-server: $schema=${schemaPath}`);
    // Against the schema alone, with a validator of its own, as an editor would check it.
    const validate = new Ajv({ allErrors: true, strictRequired: false }).compile(schema);
    expect(validate(raw), JSON.stringify(validate.errors)).toBe(true);
    expect(schemaProblems(raw)).toEqual([]);
    // And by the loader, with the rest of its folder (workflow: steps name files beside them).
    const loaded = WorkflowCatalog.loadDirectory(dirname(file), 5);
    expect(loaded.map((definition) => definition.source)).toContain(file);
  });
});
