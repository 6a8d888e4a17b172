import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { pairAgents } from './support/pair-agents.js';
import { useTestStack } from './support/test-stack.js';

const version = (n: number, agent: string, taskType: string): string => `task_type: e2e_edit
version: ${n}
steps:
  - { id: only, agent: ${agent}, task_type: ${taskType}, timeout_ms: 20000, input: { text: { $ref: request.payload.text } } }
`;

describe('editing a workflow file while workflows run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'versions-'));
  const stack = useTestStack({ workflowsDir: dir, replicas: 0, agents: pairAgents({ delayMs: 1_500 }) });

  it('leaves running workflows on the plan they started with; new ones take the new version', async () => {
    writeFileSync(join(dir, 'e2e_edit.yaml'), version(1, 'e2e_first', 'e2e_upper'));
    await stack.startOrchestrator();
    const running = stack.submit({ task_id: 'edit-v1', task_type: 'e2e_edit', payload: { text: 'old' } }, 30_000);
    await waitFor('the v1 step to run', async () => {
      const rows = await stack.db.query(`SELECT id FROM tasks WHERE status = 'RUNNING' AND step_key = 'only'`);
      return rows.length === 1 ? true : undefined;
    });
    // A new definition only takes effect when a replica (re)starts; the running workflow keeps its stored plan.
    writeFileSync(join(dir, 'e2e_edit.yaml'), version(2, 'e2e_second', 'e2e_wrap'));
    await stack.restart();
    const fresh = await stack.submit({ task_id: 'edit-v2', task_type: 'e2e_edit', payload: { text: 'new' } }, 30_000);
    expect(fresh).toMatchObject({ status: 'COMPLETED', result: { steps: { only: { text: '[new]' } } } });
    // The first requester's reply may be lost with the replica it went through; the workflow is not.
    await running.catch(() => undefined);
    const old = await waitFor('the v1 workflow to complete', async () => {
      const view = await stack.get<{
        status: string;
        plan: { version: number; steps: { agent: string }[] };
        result: { steps: { only: { text: string } } } | null;
      }>('/tasks/edit-v1');
      return view.status === 'COMPLETED' ? view : undefined;
    }, 40_000);
    expect(old.plan.version).toBe(1);
    expect(old.plan.steps[0]?.agent).toBe('e2e_first');
    expect(old.result?.steps.only.text).toBe('OLD');
    const v2 = await stack.get<{ plan: { version: number } }>('/tasks/edit-v2');
    expect(v2.plan.version).toBe(2);
  });
});
