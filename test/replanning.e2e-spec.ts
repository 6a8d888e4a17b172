import { join } from 'node:path';
import { Agent } from '@orchestrator/agent-sdk';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');

const work = (id: string, agent: string, after: string) => ({
  id,
  agent,
  task_type: 'e2e_work',
  depends_on: [after],
  input: { text: { $ref: `steps.${after}.result.text` } },
});

/** The first plan of `e2e_planned` (a file with `plan: dynamic`): the same shape as `e2e_replan`. */
const PLANNED = {
  steps: [
    { id: 'research', agent: 'e2e_good', task_type: 'e2e_work', input: { text: { $ref: 'request.payload.topic' } } },
    work('draft', 'e2e_bad', 'research'),
    work('publish', 'e2e_good', 'draft'),
  ],
  output: { text: { $ref: 'steps.publish.result.text' } },
};

/** The revised plans the test planner answers with, by the request's `mode`. */
const REVISIONS: Record<string, unknown> = {
  // Draft again on the agent that works, then publish (an id the failed plan had, never run).
  fix: { steps: [work('draft_again', 'e2e_good', 'research'), work('publish', 'e2e_good', 'draft_again')] },
  // Still the broken agent: the one revision allowed fails too. A revision's steps take its own defaults.
  again_bad: { defaults: { max_attempts: 1 }, steps: [work('draft_again', 'e2e_bad', 'research'), work('publish', 'e2e_good', 'draft_again')] },
  // Takes the id of a step that is done: refused, asked once more, refused again.
  refuse: { steps: [work('research', 'e2e_good', 'research')] },
};

interface TaskView {
  status: string;
  plan: { version: number; revision: number; replan: unknown; steps: { id: string }[] };
  plan_history: { plan: { revision: number; steps: { id: string }[] }; failed_step: string; error: string }[];
  steps: { step: string; status: string; agent: string | null }[];
}

describe('re-planning when a step fails for good', () => {
  const revisionQuestions: Record<string, unknown>[] = [];
  const planQuestions: Record<string, unknown>[] = [];
  const goodCalls: string[] = [];
  /** While set, the planner does not answer revisions (it holds them until released). */
  let holdRevisions: Promise<void> | null = null;
  let heldOne: (() => void) | null = null;

  const natsUrl = testEnv().natsUrl;
  const good = new Agent({ name: 'e2e_good', agentType: 'test', natsUrl }).handle('e2e_work', (payload) => {
    goodCalls.push(String(payload['text']));
    return Promise.resolve({ text: `${String(payload['text'])}+good` });
  });
  const bad = new Agent({ name: 'e2e_bad', agentType: 'test', natsUrl }).handle('e2e_work', () => Promise.reject(new Error('bad agent')));
  const planner = new Agent({ name: 'e2e_replanner', agentType: 'test', natsUrl }).handle('plan_task', async (payload) => {
    const request = payload['request'] as { task_type: string; payload: { mode?: string } };
    if (payload['revise'] === undefined) {
      planQuestions.push(payload);
      if (request.task_type === 'e2e_planned') return { plan: PLANNED };
      throw new Error(`no plan for ${request.task_type}`);
    }
    revisionQuestions.push(payload);
    if (holdRevisions) {
      heldOne?.();
      await holdRevisions;
    }
    const mode = request.payload.mode ?? 'fix';
    return { plan: REVISIONS[mode === 'slow' ? 'fix' : mode] };
  });

  const stack = useTestStack({
    workflowsDir: FIXTURES,
    env: { PLANNER_AGENT: 'e2e_replanner', PLANNER_TIMEOUT_MS: '1000', PLANNER_RETRIES: '1' },
    agents: [good, bad, planner],
    agentsFirst: true,
    waitForAgents: 3,
  });

  async function view(taskId: string): Promise<TaskView> {
    return stack.get<TaskView>(`/tasks/${taskId}`);
  }

  it('asks the planner with what finished and what failed, then runs the revised plan, keeping the finished steps', async () => {
    const before = revisionQuestions.length;
    const response = await stack.submit({ task_id: 'replan-fix', task_type: 'e2e_replan', payload: { topic: 't', mode: 'fix' } });
    expect(response).toMatchObject({ status: 'COMPLETED', success: true });
    expect((response['result'] as { output: unknown }).output).toEqual({ text: 't+good+good+good' });
    // research ran once: the revision built on its result rather than running it again.
    expect(goodCalls.filter((text) => text === 't')).toHaveLength(1);

    expect(revisionQuestions.length - before).toBe(1);
    const question = revisionQuestions.at(-1)?.['revise'] as Record<string, unknown>;
    expect(question['revision']).toBe(2);
    expect(question['completed']).toEqual({ research: { text: 't+good' } });
    expect(question['failed']).toEqual({ step: 'draft', agent: 'e2e_bad', error: 'bad agent' });

    const task = await view('replan-fix');
    expect(task.plan.revision).toBe(2);
    expect(task.plan.steps.map((s) => s.id)).toEqual(['research', 'draft_again', 'publish']);
    expect(task.plan_history).toHaveLength(1);
    expect(task.plan_history[0]?.plan.steps.map((s) => s.id)).toEqual(['research', 'draft', 'publish']);
    expect(task.plan_history[0]).toMatchObject({ failed_step: 'draft', error: 'step "draft" (agent e2e_bad) failed after 1 attempt: bad agent' });
    expect(task.steps.map((s) => [s.step, s.status])).toEqual([
      ['research', 'COMPLETED'],
      ['draft_again', 'COMPLETED'],
      ['publish', 'COMPLETED'],
      ['draft@1', 'FAILED'],
      ['publish@1', 'CANCELLED'],
    ]);
  });

  it('fails the workflow when the revised plan fails too and no revision is left', async () => {
    const before = revisionQuestions.length;
    const response = await stack.submit({ task_id: 'replan-bad', task_type: 'e2e_replan', payload: { topic: 'u', mode: 'again_bad' } });
    expect(response).toMatchObject({ status: 'FAILED', success: false, error: 'step "draft_again" (agent e2e_bad) failed after 1 attempt: bad agent' });
    expect(revisionQuestions.length - before).toBe(1);
    const task = await view('replan-bad');
    expect(task.plan.revision).toBe(2);
    expect(task.plan_history.map((h) => h.failed_step)).toEqual(['draft']);
  });

  it('fails the workflow naming both problems when the planner answers no usable revision', async () => {
    const before = revisionQuestions.length;
    const response = await stack.submit({ task_id: 'replan-refused', task_type: 'e2e_replan', payload: { topic: 'v', mode: 'refuse' } });
    expect(response).toMatchObject({ status: 'FAILED', success: false });
    expect(response['error']).toMatch(/^step "draft" \(agent e2e_bad\) failed after 1 attempt: bad agent; re-planning failed: plan: the planner's plan is invalid: /);
    expect(response['error']).toContain('step "research" is already done in this workflow; give the new step another id');
    // Asked once, then once more with the errors.
    expect(revisionQuestions.length - before).toBe(2);
    expect((await view('replan-refused')).plan_history).toHaveLength(0);
    const metrics = await (await fetch(`${stack.orchestrator.baseUrl}/metrics`)).text();
    // replan-fix and replan-bad were revised; replan-refused was not.
    expect(metrics).toMatch(/^orchestrator_plan_revisions_total\{outcome="applied"\} 2$/m);
    expect(metrics).toMatch(/^orchestrator_plan_revisions_total\{outcome="refused"\} 1$/m);
  });

  it('plans a workflow whose file says plan: dynamic, checking the payload first and applying the file\'s policies', async () => {
    const refused = await stack.submit({ task_id: 'planned-bad', task_type: 'e2e_planned', payload: {} });
    expect(refused).toMatchObject({ status: 'FAILED', error: 'payload.topic: is required' });
    expect(planQuestions).toHaveLength(0);
    expect(await stack.db.query(`SELECT id FROM tasks WHERE task_id = 'planned-bad'`)).toHaveLength(0);

    const response = await stack.submit({ task_id: 'planned-1', task_type: 'e2e_planned', payload: { topic: 'p' } });
    expect(response).toMatchObject({ status: 'COMPLETED', success: true });
    expect((response['result'] as { output: unknown }).output).toEqual({ text: 'p+good+good+good' });
    expect(planQuestions).toHaveLength(1);
    const task = await view('planned-1');
    // The file's version, its max_attempts (1, not the service's 3) and its replan policy.
    expect(task.plan).toMatchObject({ version: 3, revision: 2, replan: { max_revisions: 1 } });
    expect(task.plan_history[0]?.plan.steps.map((s) => s.id)).toEqual(['research', 'draft', 'publish']);
    expect(task.plan_history[0]?.error).toBe('step "draft" (agent e2e_bad) failed after 1 attempt: bad agent');
    const workflows = await stack.get<{ items: { task_type: string; plan: string; steps: unknown[] }[] }>('/workflows');
    expect(workflows.items.find((w) => w.task_type === 'e2e_planned')).toMatchObject({ plan: 'dynamic', steps: [] });
    expect(workflows.items.find((w) => w.task_type === 'e2e_replan')).toMatchObject({ plan: 'fixed' });
  });

  it('asks again from another replica when the one asking dies before the answer', async () => {
    let release: () => void = () => undefined;
    holdRevisions = new Promise((resolve) => (release = resolve));
    const held = new Promise<void>((resolve) => (heldOne = resolve));
    const before = revisionQuestions.length;
    const answer = stack.submit({ task_id: 'replan-restart', task_type: 'e2e_replan', payload: { topic: 'w', mode: 'slow' } }, 60_000);
    await held;
    await stack.orchestrator.kill();
    holdRevisions = null;
    release();
    await stack.restart();
    // The lease of the dead replica (planner timeout x attempts + 5 s) runs out, then the sweeper asks again.
    await waitFor('the workflow to complete', async () => ((await view('replan-restart')).status === 'COMPLETED' ? true : undefined), 30_000, 200);
    expect(revisionQuestions.length - before).toBeGreaterThanOrEqual(2);
    const task = await view('replan-restart');
    expect(task.plan.revision).toBe(2);
    expect(task.plan_history).toHaveLength(1);
    // The requester was answered by the replica that finished the work.
    expect(await answer).toMatchObject({ task_id: 'replan-restart', status: 'COMPLETED' });
  }, 60_000);
});
