import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskPriority } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { AppConfig } from '../config/app-config.js';
import { WorkflowDefinitionError } from './planning.errors.js';
import { PlanningService } from './planning.service.js';
import { WorkflowCatalog } from './workflow-catalog.service.js';

const REPO_WORKFLOWS = join(new URL('.', import.meta.url).pathname, '../../../../workflows');

function config(dir: string): AppConfig {
  return Object.assign(new AppConfig(), { WORKFLOWS_DIR: dir, DEFAULT_STEP_TIMEOUT_MS: 60_000, DEFAULT_MAX_ATTEMPTS: 3 });
}

const request = (task_type: string, payload: Record<string, unknown>) => ({ task_id: 't', task_type, payload, priority: TaskPriority.Normal });

describe('the workflows folder of the repository', () => {
  it('loads and plans create_blog_post as five steps in order', async () => {
    const planning = new PlanningService(new WorkflowCatalog(config(REPO_WORKFLOWS)), config(REPO_WORKFLOWS));
    const plan = await planning.plan(request('create_blog_post', { topic: 'Graphs' }));
    expect(plan.steps.map((s) => [s.id, s.agent, s.task_type])).toEqual([
      ['draft', 'llm_agent', 'generate_content'],
      ['enhance', 'enhancement_agent', 'enhance_content'],
      ['review', 'examination_agent', 'review_content'],
      ['export', 'drafting_agent', 'export_document'],
      ['publish', 'communication_agent', 'publish_content'],
    ]);
    expect(plan.steps[0]).toMatchObject({ timeout_ms: 30_000, max_attempts: 3 });
  });
});

describe('PlanningService', () => {
  const dir = mkdtempSync(join(tmpdir(), 'workflows-'));
  writeFileSync(
    join(dir, 'flow.yaml'),
    `task_type: flow
version: 1
payload:
  topic: { type: string, required: true, max_length: 5 }
  count: { type: integer }
steps:
  - { id: a, agent: worker, task_type: work, timeout_ms: 900 }
`,
  );
  const planning = new PlanningService(new WorkflowCatalog(config(dir)), config(dir));

  it.each<[Record<string, unknown>, string]>([
    [{}, 'payload.topic: is required'],
    [{ topic: 3 }, 'payload.topic: must be a string'],
    [{ topic: 'toolong' }, 'payload.topic: must be at most 5 characters'],
    [{ topic: 'ok', count: 1.5 }, 'payload.count: must be an integer'],
  ])('refuses the payload %j', async (payload, message) => {
    await expect(planning.plan(request('flow', payload))).rejects.toThrow(message);
  });

  it('names an unknown task type, and lets undeclared payload fields through', async () => {
    await expect(planning.plan(request('nope', {}))).rejects.toThrow('task_type: no workflow is defined for "nope"');
    expect((await planning.plan(request('flow', { topic: 'ok', extra: true }))).steps[0]).toMatchObject({ timeout_ms: 900, max_attempts: 3 });
  });
});

describe('WorkflowCatalog.loadDirectory', () => {
  it('lists every problem of every file, naming each file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'workflows-bad-'));
    writeFileSync(join(dir, 'one.yaml'), 'task_type: one\nversion: 1\nsteps:\n  - { id: a, agent: "a.>", task_type: w }\n');
    writeFileSync(join(dir, 'two.json'), '{ "task_type": "two", ');
    writeFileSync(join(dir, 'three.yml'), 'task_type: three\nversion: 1\nsteps: []\n');
    let error: unknown;
    try {
      WorkflowCatalog.loadDirectory(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WorkflowDefinitionError);
    const problems = (error as WorkflowDefinitionError).problems.join('\n');
    expect(problems).toContain(`${join(dir, 'one.yaml')}: steps[0] (a): agent "a.>" is not an agent name`);
    expect(problems).toContain(`${join(dir, 'two.json')}: cannot be parsed`);
    expect(problems).toContain(`${join(dir, 'three.yml')}: steps: must be a non-empty list`);
  });
});
