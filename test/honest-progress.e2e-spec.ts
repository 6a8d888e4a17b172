import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { TaskEvent, taskEventSubject, type TaskDetailView, type TaskListView } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { HistoryAgent } from './support/history-agent.js';
import { waitFor } from './support/orchestrator-process.js';
import { useTestStack } from './support/test-stack.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'apps/cli/bin/orchestrator.js');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'workflows');

describe('progress says how the steps ended', () => {
  const hist = new HistoryAgent();
  const stack = useTestStack({ workflowsDir: FIXTURES, agents: [hist.agent], waitForAgents: 1 });

  function cli(...args: string[]): Promise<string> {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ORCHESTRATOR_URL: stack.orchestrator.baseUrl, NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', () => resolve(out));
    });
  }

  it('counts a failed step as failed and the steps it stopped as cancelled, in the API, the list, the events and the CLI', async () => {
    const events = stack.nats.collect(taskEventSubject(TaskEvent.Progress));
    await stack.nats.flush();
    hist.failing.add('hp-1');
    const answer = await stack.submit({ task_id: 'hp-1', task_type: 'e2e_resume', payload: { run: 'hp-1' } });
    expect(answer).toMatchObject({ status: 'FAILED' });
    // a and the empty for_each completed; b failed; c never ran and was cancelled with the workflow.
    const expected = { done: 2, skipped: 0, failed: 1, cancelled: 1, total: 4 };
    expect((await stack.get<TaskDetailView>('/tasks/hp-1')).progress).toEqual(expected);
    const listed = await stack.get<TaskListView>('/tasks?task_type=e2e_resume');
    expect(listed.items.find((task) => task.task_id === 'hp-1')?.progress).toEqual(expected);
    // The failed step's event counts it; the steps stopped with the workflow have no event of their own.
    const failedStep = await waitFor('the progress event of the failed step', () =>
      events.messages.find((m) => m['task_id'] === 'hp-1' && m['step'] === 'b' && m['status'] === 'FAILED'),
    );
    expect(failedStep).toMatchObject({ done: 2, skipped: 0, failed: 1, cancelled: 0, total: 4 });
    events.stop();

    expect(await cli('get', 'hp-1')).toMatch(/^hp-1 {2}e2e_resume v1 {2}FAILED {2}2\/4 steps, 1 failed, 1 cancelled {2}/);
    expect(await cli('list', '--type', 'e2e_resume')).toMatch(/hp-1 +e2e_resume +FAILED +2\/4, 1 failed, 1 cancelled /);
  });

  it('counts a step its when skipped apart from those that ran', async () => {
    const answer = await stack.submit({ task_id: 'hp-2', task_type: 'e2e_history', payload: { items: [1, 2] } });
    expect(answer).toMatchObject({ status: 'COMPLETED' });
    expect((await stack.get<TaskDetailView>('/tasks/hp-2')).progress).toEqual({ done: 3, skipped: 1, failed: 0, cancelled: 0, total: 4 });
    expect(await cli('get', 'hp-2')).toContain('COMPLETED  3/4 steps, 1 skipped');
  });
});
