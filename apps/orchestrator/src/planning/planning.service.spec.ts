import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskPriority, type TaskRequest } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { AppConfig } from '../config/app-config.js';
import { readySteps } from './plan.js';
import { PlanningError, WorkflowDefinitionError } from './planning.errors.js';
import { PlanningService } from './planning.service.js';
import { WorkflowCatalog } from './workflow-catalog.service.js';

const MAX_DEPTH = new AppConfig().MAX_WORKFLOW_DEPTH;
const ROOT = join(new URL('.', import.meta.url).pathname, '../../../..');
const REPO_WORKFLOWS = join(ROOT, 'workflows');

function config(dir: string): AppConfig {
  // PLANNER_AGENT empty: no dynamic planning, only the files.
  return Object.assign(new AppConfig(), { WORKFLOWS_DIR: dir, DEFAULT_STEP_TIMEOUT_MS: 60_000, DEFAULT_MAX_ATTEMPTS: 3, PLANNER_AGENT: '' });
}

function serviceFor(dir: string): PlanningService {
  return new PlanningService(new WorkflowCatalog(config(dir)), config(dir));
}

const request = (task_type: string, payload: Record<string, unknown>): TaskRequest => ({ task_id: 't', task_type, payload, priority: TaskPriority.Normal });

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'workflows-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function loadProblems(dir: string, maxDepth = MAX_DEPTH): string[] {
  try {
    WorkflowCatalog.loadDirectory(dir, maxDepth);
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowDefinitionError);
    return (error as WorkflowDefinitionError).problems;
  }
  throw new Error('expected the folder to be refused');
}

const BLOG_STEPS = [
  ['draft', 'llm_agent', 'generate_content'],
  ['enhance', 'enhancement_agent', 'enhance_content'],
  ['review', 'examination_agent', 'review_content'],
  ['export', 'drafting_agent', 'export_document'],
  ['publish', 'communication_agent', 'publish_content'],
];

describe('the workflows folder of the repository', () => {
  const planning = serviceFor(REPO_WORKFLOWS);

  it('loads create_blog_post, its approved variant and fast_blog_post', () => {
    const catalog = new WorkflowCatalog(config(REPO_WORKFLOWS));
    expect(catalog.list().map((d) => [d.task_type, d.version]).sort()).toEqual([['create_blog_post', 1], ['create_blog_post_approved', 1], ['fast_blog_post', 1]]);
    expect(catalog.get('create_blog_post')?.source).toBe(join(REPO_WORKFLOWS, 'create_blog_post.yaml'));
    expect(catalog.get('nope')).toBeUndefined();
  });

  it('plans create_blog_post as five steps, each waiting for the one before', async () => {
    const plan = await planning.plan(request('create_blog_post', { topic: 'Graphs' }));
    expect(plan.steps.map((s) => [s.id, s.agent, s.task_type])).toEqual(BLOG_STEPS);
    expect(plan.steps[0]).toMatchObject({ timeout_ms: 30_000, max_attempts: 3, backoff: { initial_ms: 250, max_ms: 5000 } });
    const done = new Set<string>();
    for (const id of ['draft', 'enhance', 'review', 'export', 'publish']) {
      expect(readySteps(plan, done, done).map((s) => s.id)).toEqual([id]);
      done.add(id);
    }
    expect(plan.output).toEqual({
      title: { $ref: 'steps.export.result.title' },
      location: { $ref: 'steps.publish.result.location' },
      url: { $ref: 'steps.publish.result.url' },
      review_score: { $ref: 'steps.review.result.score' },
    });
  });

  it('plans fast_blog_post with enhance and review in parallel, export waiting for both', async () => {
    const plan = await planning.plan(request('fast_blog_post', { topic: 'Graphs' }));
    expect(plan.steps.map((s) => [s.id, s.agent, s.task_type])).toEqual(BLOG_STEPS);
    expect(plan.timeout_ms).toBe(300_000);
    const draft = new Set(['draft']);
    expect(readySteps(plan, draft, draft).map((s) => s.id)).toEqual(['enhance', 'review']);
    expect(readySteps(plan, new Set(['draft', 'enhance']), new Set(['draft', 'enhance', 'review']))).toEqual([]);
    const both = new Set(['draft', 'enhance', 'review']);
    expect(readySteps(plan, both, both).map((s) => s.id)).toEqual(['export']);
  });

  it('refuses create_blog_post without a topic', async () => {
    await expect(planning.plan(request('create_blog_post', {}))).rejects.toThrow('payload.topic: is required');
  });

  it('accepts the workflows the end-to-end tests use', () => {
    expect(WorkflowCatalog.loadDirectory(join(ROOT, 'test/fixtures/workflows'), MAX_DEPTH).length).toBeGreaterThan(0);
  });
});

describe('PlanningService', () => {
  const dir = folder({
    'flow.yaml': `task_type: flow
version: 1
payload:
  topic: { type: string, required: true, max_length: 5 }
  count: { type: integer }
  ratio: { type: number }
  tags: { type: array, max_length: 2 }
  meta: { type: object }
  draft: { type: boolean }
steps:
  - { id: a, agent: worker, task_type: work, timeout_ms: 900 }
`,
    'tuned.json': JSON.stringify({
      task_type: 'tuned',
      version: 4,
      defaults: { timeout_ms: 2000, max_attempts: 5, backoff: { initial_ms: 1, max_ms: 2 } },
      timeout_ms: 10_000,
      steps: [
        { id: 'own', agent: 'worker', task_type: 'work', timeout_ms: 300, max_attempts: 9, backoff: { initial_ms: 7, max_ms: 8 }, input: { x: { $ref: 'request.payload.x' } } },
        { id: 'inherits', agent: 'worker', task_type: 'work', depends_on: ['own'], fallbacks: ['other'], optional: true },
      ],
      output: { x: { $ref: 'steps.own.result.x' } },
    }),
    'outer.yaml': 'task_type: outer\nversion: 1\nsteps:\n  - { id: inner, workflow: tuned }\n',
  });
  const planning = serviceFor(dir);

  it.each<[Record<string, unknown>, string]>([
    [{}, 'payload.topic: is required'],
    [{ topic: null }, 'payload.topic: is required'],
    [{ topic: '  ' }, 'payload.topic: must not be empty'],
    [{ topic: 3 }, 'payload.topic: must be a string'],
    [{ topic: 'toolong' }, 'payload.topic: must be at most 5 characters'],
    [{ topic: 'ok', count: 1.5 }, 'payload.count: must be an integer'],
    [{ topic: 'ok', ratio: '1' }, 'payload.ratio: must be a number'],
    [{ topic: 'ok', tags: 'a' }, 'payload.tags: must be an array'],
    [{ topic: 'ok', tags: [1, 2, 3] }, 'payload.tags: must be at most 2 items'],
    [{ topic: 'ok', meta: [] }, 'payload.meta: must be an object'],
    [{ topic: 'ok', draft: 'yes' }, 'payload.draft: must be a boolean'],
  ])('refuses the payload %j', async (payload, message) => {
    const error: unknown = await planning.plan(request('flow', payload)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlanningError);
    expect(error).toMatchObject({ code: 'INVALID_PAYLOAD', message });
  });

  it('names every problem of a payload in one message', async () => {
    await expect(planning.plan(request('flow', { count: 'x', meta: 1 }))).rejects.toThrow(
      'payload.topic: is required; payload.count: must be an integer; payload.meta: must be an object',
    );
  });

  it('names an unknown task type', async () => {
    const error: unknown = await planning.plan(request('nope', {})).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNKNOWN_TASK_TYPE', message: 'task_type: no workflow is defined for "nope"' });
  });

  it('lets undeclared payload fields and absent optional ones through', async () => {
    const plan = await planning.plan(request('flow', { topic: 'ok', extra: { any: true } }));
    expect(plan.steps[0]).toMatchObject({ timeout_ms: 900, max_attempts: 3 });
  });

  it('takes each number from the step, else the workflow defaults, else the configuration', async () => {
    const tuned = await planning.plan(request('tuned', {}));
    expect(tuned).toEqual({
      task_type: 'tuned',
      version: 4,
      timeout_ms: 10_000,
      revision: 1,
      replan: null,
      fairness_key: null,
      output: { x: { $ref: 'steps.own.result.x' } },
      steps: [
        {
          id: 'own',
          agent: 'worker',
          capability: null,
          task_type: 'work',
          depends_on: [],
          input: { x: { $ref: 'request.payload.x' } },
          timeout_ms: 300,
          max_attempts: 9,
          backoff: { initial_ms: 7, max_ms: 8 },
          fallbacks: [],
          optional: false,
        },
        {
          id: 'inherits',
          agent: 'worker',
          capability: null,
          task_type: 'work',
          depends_on: ['own'],
          input: {},
          timeout_ms: 2000,
          max_attempts: 5,
          backoff: { initial_ms: 1, max_ms: 2 },
          fallbacks: ['other'],
          optional: true,
        },
      ],
    });
    const flow = await planning.plan(request('flow', { topic: 'ok' }));
    expect(flow.steps[0]).toMatchObject({ timeout_ms: 900, max_attempts: 3, backoff: { initial_ms: 500, max_ms: 30_000 } });
    expect(flow).toMatchObject({ timeout_ms: null, output: null });
  });

  it('keeps in the plan which steps run another workflow', async () => {
    const plan = await planning.plan(request('outer', {}));
    expect(plan.steps[0]).toMatchObject({ id: 'inner', agent: 'orchestrator_agent', task_type: 'tuned', workflow: 'tuned' });
  });

  it('returns a JSON snapshot that nothing can change, the loaded definition included', async () => {
    const first = await planning.plan(request('tuned', {}));
    expect(JSON.parse(JSON.stringify(first))).toEqual(first);
    expect(() => ((first.steps[0]?.input as Record<string, unknown>)['x'] = 'changed')).toThrow(TypeError);
    expect(() => first.steps[1]?.depends_on.push('changed')).toThrow(TypeError);
    expect(() => first.steps[1]?.fallbacks.push('changed')).toThrow(TypeError);
    expect(() => ((first.output as Record<string, unknown>)['x'] = 'changed')).toThrow(TypeError);
    const second = await planning.plan(request('tuned', {}));
    expect(second.steps[0]?.input).toEqual({ x: { $ref: 'request.payload.x' } });
    expect(second.steps[1]).toMatchObject({ depends_on: ['own'], fallbacks: ['other'] });
    expect(second.output).toEqual({ x: { $ref: 'steps.own.result.x' } });
  });
});

describe('WorkflowCatalog.loadDirectory', () => {
  it('lists every problem of every file, naming each file', () => {
    const dir = folder({
      'one.yaml': 'task_type: one\nversion: 1\nsteps:\n  - { id: a, agent: "a.>", task_type: w }\n',
      'two.json': '{ "task_type": "two", ',
      'three.yml': 'task_type: three\nversion: 1\nsteps: []\n',
      'four.yaml': 'task_type: for\nversion: 1\nsteps:\n  - { id: a, agent: x, task_type: w }\n',
    });
    expect(loadProblems(dir)).toEqual([
      `${join(dir, 'four.yaml')}: task_type: "for" must equal the file name "four"`,
      `${join(dir, 'one.yaml')}: steps[0] (a): agent "a.>" is not an agent name (must match ^[a-z0-9][a-z0-9_-]{0,63}$)`,
      `${join(dir, 'three.yml')}: steps: must be a non-empty list`,
      expect.stringMatching(new RegExp(`^${join(dir, 'two.json')}: cannot be parsed: `)) as unknown as string,
    ]);
  });

  it('refuses one task_type defined by two files', () => {
    const body = 'version: 1\nsteps:\n  - { id: a, agent: x, task_type: w }\n';
    const dir = folder({ 'same.yaml': `task_type: same\n${body}`, 'same.json': JSON.stringify({ task_type: 'same', version: 2, steps: [{ id: 'a', agent: 'x', task_type: 'w' }] }) });
    expect(loadProblems(dir)).toEqual([`${join(dir, 'same.yaml')}: task_type "same" is also defined by ${join(dir, 'same.json')}`]);
  });

  it('refuses YAML with duplicate keys or unknown tags, naming the line', () => {
    const dir = folder({
      'dup.yaml': 'task_type: dup\nversion: 1\nversion: 2\nsteps:\n  - { id: a, agent: x, task_type: w }\n',
      'tag.yaml': 'task_type: tag\nversion: !!python/object 1\nsteps:\n  - { id: a, agent: x, task_type: w }\n',
    });
    const problems = loadProblems(dir);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(new RegExp(`^${join(dir, 'dup.yaml')}: cannot be parsed: Map keys must be unique at line 3`));
    expect(problems[1]).toMatch(new RegExp(`^${join(dir, 'tag.yaml')}: cannot be parsed: .*python/object.* at line 2`));
  });

  it('reads .yaml, .yml and .json, and skips other files, dot files and folders', () => {
    const step = '  - { id: a, agent: x, task_type: w }\n';
    const dir = folder({
      'a.yaml': `task_type: a\nversion: 1\nsteps:\n${step}`,
      'b.yml': `task_type: b\nversion: 1\nsteps:\n${step}`,
      'c.json': JSON.stringify({ task_type: 'c', version: 1, steps: [{ id: 'a', agent: 'x', task_type: 'w' }] }),
      'README.md': '# not a workflow',
      '.a.yaml.swp': 'garbage',
      '.hidden.yaml': 'garbage: [',
    });
    mkdirSync(join(dir, 'nested.yaml'));
    expect(WorkflowCatalog.loadDirectory(dir, MAX_DEPTH).map((d) => d.task_type)).toEqual(['a', 'b', 'c']);
  });

  it('names a folder that cannot be read', () => {
    const missing = join(tmpdir(), 'no-such-workflows-folder');
    expect(loadProblems(missing)).toEqual([expect.stringMatching(new RegExp(`^${missing}: cannot read the workflows folder`)) as unknown as string]);
  });

  it('makes the service refuse to start', () => {
    const dir = folder({ 'bad.yaml': 'task_type: bad\nversion: 1\nsteps:\n  - { id: a, agent: x, task_type: w, depends_on: [a] }\n' });
    expect(() => new WorkflowCatalog(config(dir))).toThrow(`invalid workflow definitions:\n  ${join(dir, 'bad.yaml')}: steps[0] (a): depends_on names the step itself`);
  });
});

describe('workflows that run workflows', () => {
  const runs = (taskType: string, ...steps: [id: string, workflow: string][]): string =>
    `task_type: ${taskType}\nversion: 1\nsteps:\n${steps.map(([id, workflow]) => `  - { id: ${id}, workflow: ${workflow} }\n`).join('')}`;
  const works = (taskType: string): string => `task_type: ${taskType}\nversion: 1\nsteps:\n  - { id: a, agent: x, task_type: w }\n`;

  it('knows how deep each one goes, counting itself', () => {
    const catalog = new WorkflowCatalog(config(join(ROOT, 'test/fixtures/workflows')));
    expect(catalog.nesting('e2e_nested')).toEqual({ depth: 2, chain: ['e2e_nested', 'e2e_pair'] });
    expect(catalog.nesting('e2e_pair')).toEqual({ depth: 1, chain: ['e2e_pair'] });
    expect(catalog.nesting('nope')).toBeUndefined();
  });

  it('refuses one that runs itself, naming the file and the step', () => {
    const dir = folder({ 'e2e_loop.yaml': runs('e2e_loop', ['again', 'e2e_loop']) });
    expect(loadProblems(dir)).toEqual([`${join(dir, 'e2e_loop.yaml')}: steps[0] (again): workflow "e2e_loop" calls itself`]);
  });

  it('refuses two that run each other, naming the cycle and the steps', () => {
    const dir = folder({ 'a.yaml': runs('a', ['go', 'b']), 'b.yaml': runs('b', ['first', 'leaf'], ['back', 'a']), 'leaf.yaml': works('leaf') });
    expect(loadProblems(dir)).toEqual([
      `workflows call each other in a cycle: a -> b -> a (${join(dir, 'a.yaml')}: steps[0] (go); ${join(dir, 'b.yaml')}: steps[1] (back))`,
    ]);
  });

  it('refuses a step running a workflow that has no file, and accepts one with plan: dynamic', () => {
    const dir = folder({ 'outer.yaml': runs('outer', ['lost', 'ghost'], ['planned', 'later']), 'later.yaml': 'task_type: later\nversion: 1\nplan: dynamic\n' });
    expect(loadProblems(dir)).toEqual([`${join(dir, 'outer.yaml')}: steps[0] (lost): workflow "ghost" is not defined (no workflow file has that task_type)`]);
  });

  it('does not report a workflow as missing when its file has problems of its own', () => {
    const dir = folder({ 'outer.yaml': runs('outer', ['inner', 'broken']), 'broken.yaml': 'task_type: broken\nversion: 1\nsteps: []\n' });
    expect(loadProblems(dir)).toEqual([`${join(dir, 'broken.yaml')}: steps: must be a non-empty list`]);
  });

  it('refuses a chain deeper than MAX_WORKFLOW_DEPTH, naming it', () => {
    const dir = folder({ 'one.yaml': runs('one', ['next', 'two']), 'two.yaml': runs('two', ['next', 'three']), 'three.yaml': works('three') });
    expect(WorkflowCatalog.loadDirectory(dir, 3)).toHaveLength(3);
    expect(loadProblems(dir, 2)).toEqual([`${join(dir, 'one.yaml')}: workflows nest 3 deep: one -> two -> three; at most 2 are allowed (MAX_WORKFLOW_DEPTH)`]);
  });

  it('makes the service refuse to start, naming the cycle', () => {
    const dir = folder({ 'a.yaml': runs('a', ['go', 'b']), 'b.yaml': runs('b', ['back', 'a']) });
    expect(() => new WorkflowCatalog(config(dir))).toThrow('workflows call each other in a cycle: a -> b -> a');
  });
});

describe('a workflow file with plan: dynamic', () => {
  const dir = folder({ 'planned.yaml': 'task_type: planned\nversion: 1\nplan: dynamic\npayload:\n  topic: { type: string, required: true }\n' });

  it('is planned at run time only when a planner agent is configured', () => {
    expect(serviceFor(dir).isDynamic('planned')).toBe(false);
  });

  it('without a planner, is refused naming the setting rather than run with no steps', async () => {
    const error = await serviceFor(dir)
      .plan(request('planned', { topic: 'x' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlanningError);
    expect(error).toMatchObject({ code: 'PLANNER_UNAVAILABLE', message: 'task_type: "planned" is planned at run time and no planner agent is configured (PLANNER_AGENT)' });
  });
});

