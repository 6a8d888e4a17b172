import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cyclicWorkflowProblems, cyclicWorkflows } from './support/cyclic-workflows.js';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'apps/orchestrator/dist/planning/validate-workflows.js');

/** Runs the validator on `dir`, expecting it to fail; its exit status and what it printed. */
function refusal(dir: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string } | null> {
  return run(process.execPath, [CLI, dir], { env: { ...process.env, ...env } }).then(
    () => null,
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

describe('npm run workflows:validate', () => {
  it('accepts the repository workflows', async () => {
    const { stdout } = await run(process.execPath, [CLI, join(ROOT, 'workflows')]);
    expect(stdout).toContain('create_blog_post version 1, 5 steps');
    expect(stdout).toContain('no problems');
  });

  it('prints each problem with file, step and reason, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'validate-'));
    writeFileSync(join(dir, 'loop.yaml'), 'task_type: loop\nversion: 1\nsteps:\n  - { id: a, agent: x, task_type: w, depends_on: [b] }\n  - { id: b, agent: x, task_type: w, depends_on: [a] }\n');
    writeFileSync(join(dir, 'hostile.yaml'), 'task_type: hostile\nversion: 1\nsteps:\n  - { id: a, agent: "a.>", task_type: w }\n');
    writeFileSync(
      join(dir, 'conditions.yaml'),
      [
        'task_type: conditions',
        'version: 1',
        'steps:',
        '  - { id: a, agent: x, task_type: w }',
        '  - { id: b, agent: x, task_type: w, when: "steps.c.result.ok" }',
        '  - { id: c, agent: x, task_type: w, depends_on: [a], for_each: "1 +" }',
        '  - { id: d, agent: x, task_type: w, depends_on: [a], when: \'"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!".matches("^(a+)+$")\' }',
        '',
      ].join('\n'),
    );
    const failure = await refusal(dir);
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(`${join(dir, 'loop.yaml')}: steps: depends_on forms a cycle: a -> b -> a`);
    expect(failure?.stderr).toContain(`${join(dir, 'hostile.yaml')}: steps[0] (a): agent "a.>" is not an agent name`);
    const conditions = join(dir, 'conditions.yaml');
    expect(failure?.stderr).toContain(`${conditions}: steps[1] (b).when: steps.c: step "c" is not a prerequisite (add it to depends_on)`);
    expect(failure?.stderr).toContain(`${conditions}: steps[2] (c).for_each: is not a valid CEL expression: `);
    expect(failure?.stderr).toContain(`${conditions}: steps[3] (d).when: did not finish within 1000 ms`);
  });

  it('names a workflow that runs itself and two that run each other, and exits 1', async () => {
    const dir = cyclicWorkflows();
    const failure = await refusal(dir);
    expect(failure?.code).toBe(1);
    for (const problem of cyclicWorkflowProblems(dir)) expect(failure?.stderr).toContain(`error  ${problem}`);
    expect(failure?.stderr).toContain(`2 problem(s) in ${dir}`);
  });

  it('refuses a chain deeper than MAX_WORKFLOW_DEPTH from the environment, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'validate-'));
    writeFileSync(join(dir, 'outer.yaml'), 'task_type: outer\nversion: 1\nsteps:\n  - { id: run, workflow: middle }\n');
    writeFileSync(join(dir, 'middle.yaml'), 'task_type: middle\nversion: 1\nsteps:\n  - { id: run, workflow: inner }\n');
    writeFileSync(join(dir, 'inner.yaml'), 'task_type: inner\nversion: 1\nsteps:\n  - { id: a, agent: x, task_type: w }\n');
    const { stdout } = await run(process.execPath, [CLI, dir]);
    expect(stdout).toContain('3 workflow(s)');
    const failure = await refusal(dir, { MAX_WORKFLOW_DEPTH: '2' });
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(`error  ${join(dir, 'outer.yaml')}: workflows nest 3 deep: outer -> middle -> inner; at most 2 are allowed (MAX_WORKFLOW_DEPTH)`);
  });
});
