import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, type CliRun } from './support/cli.js';
import { waitFor } from './support/orchestrator-process.js';
import { useTestStack } from './support/test-stack.js';

describe('create_blog_post_approved: the review, then a person approves, then publish', () => {
  const stack = useTestStack({ demoAgents: true, waitForAgents: 5 });

  const cli = (...args: string[]): Promise<CliRun> => runCli({ ORCHESTRATOR_URL: stack.orchestrator.baseUrl }, ...args);

  const waitingForApproval = (taskId: string): Promise<{ input: { title: string; review: { score: number } } }> =>
    waitFor(`${taskId} to wait for its approval`, async () => {
      const { items } = await stack.get<{ items: { task_id: string; step: string; input: { title: string; review: { score: number } } }[] }>('/approvals');
      return items.find((item) => item.task_id === taskId && item.step === 'approve');
    });

  it('waits after the review with the post and its review shown; `orchestrator approve` publishes it', async () => {
    const final = stack.submit({ task_id: 'post-approved-1', task_type: 'create_blog_post_approved', payload: { topic: 'Durable workflows' } }, 120_000);
    const waiting = await waitingForApproval('post-approved-1');
    expect(waiting.input.title.toLowerCase()).toContain('durable workflows');
    expect(typeof waiting.input.review.score).toBe('number');
    // Nothing is exported or published before a person says so.
    const before = await stack.get<{ steps: { step: string; status: string }[] }>('/tasks/post-approved-1');
    expect(before.steps.map((step) => [step.step, step.status])).toEqual([
      ['draft', 'COMPLETED'],
      ['enhance', 'COMPLETED'],
      ['review', 'COMPLETED'],
      ['approve', 'WAITING'],
      ['export', 'PENDING'],
      ['publish', 'PENDING'],
    ]);

    // A payload the step does not take is refused, the field named (exit 2); the step still waits.
    const wrong = await cli('signal', 'post-approved-1', 'approval', '--payload', '{"approved":"yes"}');
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('error: payload.approved: must be a boolean');

    const approved = await cli('approve', 'post-approved-1', '--comment', 'Ship it');
    expect(approved).toEqual({ status: 0, stdout: 'post-approved-1: approval accepted by step approve\n', stderr: '' });
    const response = await final;
    expect(response).toMatchObject({ status: 'COMPLETED', result: { output: { approved: true, comment: 'Ship it' } } });
    const output = (response['result'] as { output: { location: string; url: string } }).output;
    expect(existsSync(output.location)).toBe(true);
    expect(readFileSync(output.location, 'utf8').toLowerCase()).toContain('durable workflows');
  });

  it('`orchestrator reject` ends it with nothing exported or published', async () => {
    const final = stack.submit({ task_id: 'post-approved-2', task_type: 'create_blog_post_approved', payload: { topic: 'Not this one' } }, 120_000);
    await waitingForApproval('post-approved-2');
    const rejected = await cli('reject', 'post-approved-2', '--comment', 'Off topic');
    expect(rejected.status).toBe(0);
    expect(await final).toMatchObject({ status: 'COMPLETED', result: { output: { approved: false, comment: 'Off topic', location: null, url: null } } });
    const after = await stack.get<{ steps: { step: string; status: string; result: unknown }[] }>('/tasks/post-approved-2');
    expect(after.steps.filter((step) => step.step === 'export' || step.step === 'publish').map((step) => step.result)).toEqual([
      { skipped: true, reason: 'when is false: steps.approve.result.approved' },
      { skipped: true, reason: 'when is false: steps.approve.result.approved' },
    ]);
    // Decided already: a second decision is refused.
    const late = await cli('approve', 'post-approved-2');
    expect(late.status).toBe(1);
    expect(late.stderr).toContain('task post-approved-2 has already finished as COMPLETED');
  });
});
