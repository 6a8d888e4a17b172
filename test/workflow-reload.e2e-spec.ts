import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '@orchestrator/agent-sdk';
import type { TaskDetailView, WorkflowReloadView } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { pairAgents } from './support/pair-agents.js';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

/** A workflow file: `first` upper-cases the text; with `second`, it is wrapped after. */
function definition(taskType: string, version: number, second = false): string {
  return [
    `task_type: ${taskType}`,
    `version: ${version}`,
    'payload:',
    '  text: { type: string, required: true }',
    'defaults: { timeout_ms: 5000, max_attempts: 1 }',
    'steps:',
    '  - id: first',
    '    agent: e2e_first',
    '    task_type: e2e_upper',
    '    input: { text: { $ref: request.payload.text } }',
    ...(second ? ['  - id: second', '    agent: e2e_second', '    task_type: e2e_wrap', '    depends_on: [first]', '    input: { text: { $ref: steps.first.result.text } }'] : []),
    'output:',
    `  text: { $ref: steps.${second ? 'second' : 'first'}.result.text }`,
    '',
  ].join('\n');
}

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'workflows-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('workflow definitions that reload, on two replicas', () => {
  const shared = folder({ 'e2e_reload_a.yaml': definition('e2e_reload_a', 1) });
  const planner = new Agent({ name: 'e2e_planner', agentType: 'test', natsUrl: testEnv().natsUrl }).handle('plan_task', (payload) => {
    const request = payload['request'] as { task_type: string };
    throw new Error(`e2e_planner has no plan for task_type ${request.task_type}`);
  });
  const stack = useTestStack({
    agents: [...pairAgents({ delayMs: 400 }), planner],
    replicas: 2,
    waitForAgents: 3,
    // The first replica watches the files; the second only follows the first's broadcasts.
    env: (replica) => ({
      WORKFLOWS_DIR: shared,
      WORKFLOWS_WATCH: replica === 0 ? 'true' : 'false',
      WORKFLOWS_CHECK_INTERVAL_MS: '0',
      PLANNER_AGENT: 'e2e_planner',
    }),
  });
  stack.onStop(() => rmSync(shared, { recursive: true, force: true }));

  const url = (replica: number, path: string): string => `${stack.orchestrators[replica]?.baseUrl ?? ''}${path}`;
  const loaded = async (replica: number): Promise<string[]> =>
    ((await (await fetch(url(replica, '/workflows'))).json()) as { items: { task_type: string; version: number }[] }).items.map((w) => `${w.task_type}@${w.version}`);
  async function post(replica: number, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(url(replica, path), {
      method: 'POST',
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const submit = (replica: number, task_id: string, task_type: string): Promise<{ status: number; body: Record<string, unknown> }> =>
    post(replica, '/tasks', { task_id, task_type, payload: { text: task_id } });
  const finished = (replica: number, taskId: string): Promise<TaskDetailView> =>
    waitFor(`${taskId} to complete`, async () => {
      const task = (await (await fetch(url(replica, `/tasks/${taskId}`))).json()) as TaskDetailView;
      return String(task.status) === 'COMPLETED' ? task : undefined;
    });

  it('serves a new file on every replica: the one watching sees it, the other follows its broadcast; a removed one goes', async () => {
    expect(await loaded(0)).toEqual(['e2e_reload_a@1']);
    expect(await loaded(1)).toEqual(['e2e_reload_a@1']);
    expect(await submit(1, 'wr-0', 'e2e_reload_b')).toMatchObject({ status: 400, body: { code: 'UNKNOWN_TASK_TYPE' } });

    writeFileSync(join(shared, 'e2e_reload_b.yaml'), definition('e2e_reload_b', 1));
    await waitFor('the watching replica to load e2e_reload_b', async () => ((await loaded(0)).includes('e2e_reload_b@1') ? true : undefined), 10_000);
    await waitFor('the other replica to follow', async () => ((await loaded(1)).includes('e2e_reload_b@1') ? true : undefined), 10_000);
    expect((await submit(1, 'wr-1', 'e2e_reload_b')).status).toBe(202);
    expect((await finished(1, 'wr-1')).result).toMatchObject({ output: { text: 'WR-1' } });

    unlinkSync(join(shared, 'e2e_reload_b.yaml'));
    await waitFor('both replicas to drop e2e_reload_b', async () => ((await loaded(0)).length === 1 && (await loaded(1)).length === 1 ? true : undefined), 10_000);
    expect(await submit(0, 'wr-2', 'e2e_reload_b')).toMatchObject({ status: 400, body: { code: 'UNKNOWN_TASK_TYPE' } });
  });

  it('reloads on request with what changed; a new version serves new runs only; a bad file is refused with all its problems and the old one keeps serving', async () => {
    // The second replica now reads a folder of its own, on request only.
    const own = folder({ 'e2e_reload_a.yaml': definition('e2e_reload_a', 1) });
    stack.onStop(() => rmSync(own, { recursive: true, force: true }));
    await stack.restart({ replica: 1, env: { WORKFLOWS_DIR: own } });
    expect(await post(1, '/workflows/reload')).toMatchObject({ status: 200, body: { changed: false, added: [], updated: [], removed: [], workflows: 1 } });

    expect((await submit(1, 'wr-v1', 'e2e_reload_a')).status).toBe(202);
    writeFileSync(join(own, 'e2e_reload_a.yaml'), definition('e2e_reload_a', 2, true));
    const reloaded = await post(1, '/workflows/reload');
    expect(reloaded.status).toBe(200);
    expect(reloaded.body as unknown as WorkflowReloadView).toMatchObject({ changed: true, added: [], updated: [{ task_type: 'e2e_reload_a', from_version: 1, to_version: 2 }], removed: [] });
    expect((await submit(1, 'wr-v2', 'e2e_reload_a')).status).toBe(202);
    const [v1, v2] = [await finished(1, 'wr-v1'), await finished(1, 'wr-v2')];
    expect([v1.workflow?.version, v1.steps.map((s) => s.step), v1.result]).toEqual([1, ['first'], expect.objectContaining({ output: { text: 'WR-V1' } })]);
    expect([v2.workflow?.version, v2.steps.map((s) => s.step), v2.result]).toEqual([2, ['first', 'second'], expect.objectContaining({ output: { text: '[WR-V2]' } })]);
    // The first replica's files did not change: the broadcast changed nothing there.
    expect(await loaded(0)).toEqual(['e2e_reload_a@1']);

    writeFileSync(join(own, 'e2e_reload_a.yaml'), definition('e2e_reload_a', 3, true).replace('agent: e2e_second', 'agent: Not.An.Agent').replace('steps:', 'colour: red\nsteps:'));
    const refused = await post(1, '/workflows/reload');
    expect(refused).toMatchObject({ status: 400, body: { code: 'INVALID_WORKFLOW' } });
    const problems = refused.body['problems'] as string[];
    expect(problems.length).toBeGreaterThanOrEqual(2);
    for (const problem of problems) expect(problem).toContain(join(own, 'e2e_reload_a.yaml'));
    expect(problems.join('\n')).toContain('colour');
    expect(problems.join('\n')).toContain('Not.An.Agent');
    expect(await loaded(1)).toEqual(['e2e_reload_a@2']);
    expect((await submit(1, 'wr-v2-again', 'e2e_reload_a')).status).toBe(202);
    expect((await finished(1, 'wr-v2-again')).workflow?.version).toBe(2);
  });

  it('finds changed files by comparing their hash now and then, where nothing watches them', async () => {
    const own = folder({ 'e2e_reload_a.yaml': definition('e2e_reload_a', 1) });
    stack.onStop(() => rmSync(own, { recursive: true, force: true }));
    await stack.restart({ replica: 1, env: { WORKFLOWS_DIR: own, WORKFLOWS_CHECK_INTERVAL_MS: '300' } });
    writeFileSync(join(own, 'e2e_reload_c.yaml'), definition('e2e_reload_c', 1));
    await waitFor('the periodic check to load e2e_reload_c', async () => ((await loaded(1)).includes('e2e_reload_c@1') ? true : undefined), 10_000);
  });

  it('says a task type is unknown when no file defines it and the planner cannot plan it', async () => {
    const answer = await stack.submit({ task_id: 'wr-unknown', task_type: 'e2e_nothing', payload: {} });
    expect(answer).toMatchObject({
      status: 'FAILED',
      error: 'task_type: no workflow is defined for "e2e_nothing", and the planner e2e_planner could not plan it: e2e_planner has no plan for task_type e2e_nothing',
    });
    expect(await submit(0, 'wr-unknown-http', 'e2e_nothing')).toMatchObject({ status: 400, body: { code: 'UNKNOWN_TASK_TYPE' } });
  });
});
