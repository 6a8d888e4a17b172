import { join } from 'node:path';
import { ORCHESTRATOR_WORKFLOW_SUBJECT } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { pairAgents } from './support/pair-agents.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');

describe('a task_id submitted again', () => {
  const stack = useTestStack({ workflowsDir: FIXTURES, agents: pairAgents(), waitForAgents: 2 });

  const post = (body: unknown): Promise<Response> =>
    fetch(`${stack.orchestrator.baseUrl}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('returns the task of the same request, keys in any order, and refuses another request under it', async () => {
    const request = { task_id: 'again-1', task_type: 'e2e_pair', payload: { text: 'same', extra: { a: 1, b: 2 } } };
    expect(await stack.submit(request)).toMatchObject({ task_id: 'again-1', status: 'COMPLETED', result: { output: { text: '[SAME]' } } });

    // The same request, its payload's keys in another order: the task's state, nothing run again.
    const repeat = await stack.submit({ payload: { extra: { b: 2, a: 1 }, text: 'same' }, task_type: 'e2e_pair', task_id: 'again-1' });
    expect(repeat).toMatchObject({ task_id: 'again-1', status: 'COMPLETED', result: { output: { text: '[SAME]' } } });
    const httpRepeat = await post(request);
    expect(httpRepeat.status).toBe(200);

    // Another payload, priority or task_type under the same task_id: refused, naming it; the first result is not given away.
    for (const other of [
      { ...request, payload: { text: 'other', extra: { a: 1, b: 2 } } },
      { ...request, priority: 'HIGH' },
      { ...request, requester_id: 'someone_else' },
    ]) {
      const refused = await stack.submit(other);
      expect(refused).toMatchObject({ task_id: 'again-1', status: 'FAILED', result: null, error: 'task_id: "again-1" is already used by a different request' });
      const res = await post(other);
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ code: 'TASK_ID_CONFLICT', message: 'task_id: "again-1" is already used by a different request' });
    }
    const [{ roots }] = await stack.db.query<{ roots: number }>(`SELECT count(*)::int AS roots FROM tasks WHERE task_id = 'again-1'`);
    expect(roots).toBe(1);
  });

  it("refuses the orchestrator's own sub-task ids from clients, while a child workflow still runs under one", async () => {
    // A client that took a step's next attempt id first would stand in for that step's child workflow.
    const nested = await stack.submit({ task_id: 'nested-own', task_type: 'e2e_nested', payload: { text: 'deep' } });
    expect(nested).toMatchObject({ status: 'COMPLETED', result: { output: { text: '[[DEEP]]' } } });
    const [child] = await stack.db.query<{ task_id: string }>(
      `SELECT task_id FROM tasks WHERE parent_id IS NULL AND task_type = 'e2e_pair' AND task_id LIKE '%:1'`,
    );
    const [rowId] = child.task_id.split(':');
    const forged = { task_id: `${rowId}:2`, task_type: 'e2e_pair', payload: { text: 'forged' } };
    const error = "task_id: ids of the form <uuid>:<attempt> are the orchestrator's own sub-tasks; use the task_id of a task you submitted";
    // Refused without repeating the id, as if it were the client's.
    expect(await stack.submit(forged)).toMatchObject({ task_id: '', status: 'FAILED', error });
    const res = await post(forged);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: error, task_id: '' });

    // The orchestrators' own subject answers only on the reply subject an orchestrator made for the sub-task: a client's inbox gets nothing.
    const plain = stack.nats.request(ORCHESTRATOR_WORKFLOW_SUBJECT, { task_id: `${rowId}:3`, task_type: 'e2e_pair', payload: { text: 'x' } }, 2_000);
    await expect(plain).rejects.toThrow(/timeout|TIMEOUT/i);
    const metrics = await (await fetch(`${stack.orchestrator.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/orchestrator_requests_refused_total\{reason="reply_subject"\} 1\b/);
    expect(metrics).toMatch(/orchestrator_requests_refused_total\{reason="internal_id"\} 2\b/);
    const [{ stored }] = await stack.db.query<{ stored: number }>(
      `SELECT count(*)::int AS stored FROM tasks WHERE task_id IN ($1, $2)`,
      [forged.task_id, `${rowId}:3`],
    );
    expect(stored).toBe(0);
  });
});
