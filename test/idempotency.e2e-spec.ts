import { join } from 'node:path';
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
});
