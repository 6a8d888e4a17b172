import { existsSync, readFileSync } from 'node:fs';
import {
  agentResponseSubject,
  ORCHESTRATOR_TASK_SUBJECT,
  TaskEvent,
  taskEventSubject,
} from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/orchestrator-process.js';
import { useTestStack } from './support/test-stack.js';

const STEPS = ['draft', 'enhance', 'review', 'export', 'publish'];
const AGENTS = ['communication_agent', 'drafting_agent', 'enhancement_agent', 'examination_agent', 'llm_agent'];

describe('create_blog_post through real NATS, PostgreSQL and Redis', () => {
  const stack = useTestStack({ demoAgents: true, waitForAgents: 5 });
  const run = Date.now().toString(36);

  it('lists the live agents with their capabilities', async () => {
    const res = await fetch(`${stack.orchestrator.baseUrl}/agents`);
    const body = (await res.json()) as { items: { name: string; capabilities: string[]; instances: unknown[] }[] };
    expect(body.items.map((a) => a.name)).toEqual(AGENTS);
    expect(body.items.find((a) => a.name === 'llm_agent')?.capabilities).toContain('generate_content');
    expect(body.items.every((a) => a.instances.length === 1)).toBe(true);
  });

  it('answers 20 concurrent requests with 20 raw COMPLETED responses holding every step', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `blog-${run}-${i}`);
    const responses = await Promise.all(
      ids.map((task_id, i) =>
        stack.submit({ task_id, task_type: 'create_blog_post', payload: { topic: `Topic number ${i}` }, priority: 'high' }, 60_000),
      ),
    );
    for (const [i, response] of responses.entries()) {
      expect(Object.keys(response).sort()).toEqual(['completed_at', 'error', 'result', 'status', 'success', 'task_id']);
      expect(response).toMatchObject({ task_id: ids[i], status: 'COMPLETED', success: true, error: null });
      const result = response['result'] as { output: { location: string }; steps: Record<string, unknown> };
      expect(Object.keys(result.steps).sort()).toEqual([...STEPS].sort());
      expect(existsSync(result.output.location)).toBe(true);
      expect(readFileSync(result.output.location, 'utf8')).toContain(`Topic number ${i}`);
    }

    const roots = await stack.db.query<{ task_id: string; status: string; priority: string }>(
      `SELECT task_id, status, priority FROM tasks WHERE parent_id IS NULL AND task_id = ANY($1)`,
      [ids],
    );
    expect(roots).toHaveLength(20);
    expect(roots.map((r) => [r.status, r.priority])).toEqual(Array.from({ length: 20 }, () => ['COMPLETED', 'HIGH']));
    // The final responses are marked sent just after they are published.
    await waitFor('every final response to be marked sent', async () => {
      const unsent = await stack.db.query(`SELECT id FROM tasks WHERE task_id = ANY($1) AND parent_id IS NULL AND response_sent_at IS NULL`, [ids]);
      return unsent.length === 0 ? true : undefined;
    });
    const steps = await stack.db.query<{ step_key: string; status: string; attempts: number; agent_name: string }>(
      `SELECT s.step_key, s.status, s.attempts, s.agent_name FROM tasks s JOIN tasks r ON s.root_id = r.id
        WHERE r.parent_id IS NULL AND s.parent_id IS NOT NULL AND r.task_id = ANY($1)`,
      [ids],
    );
    expect(steps).toHaveLength(100);
    expect(steps.every((s) => s.status === 'COMPLETED' && s.attempts === 1)).toBe(true);
  });

  it('shows a workflow with its progress and every sub-task over HTTP', async () => {
    const task_id = `blog-${run}-status`;
    await stack.submit({ task_id, task_type: 'create_blog_post', payload: { topic: 'Status' } }, 60_000);
    const res = await fetch(`${stack.orchestrator.baseUrl}/tasks/${task_id}`);
    expect(res.status).toBe(200);
    const view = (await res.json()) as {
      status: string;
      progress: { done: number; skipped: number; failed: number; cancelled: number; total: number };
      steps: { step: string; agent: string; status: string; attempts: number; started_at: string; completed_at: string; result: unknown }[];
    };
    expect(view.status).toBe('COMPLETED');
    expect(view.progress).toEqual({ done: 5, skipped: 0, failed: 0, cancelled: 0, total: 5 });
    expect(view.steps.map((s) => s.step)).toEqual(STEPS);
    expect(view.steps.map((s) => s.agent)).toEqual(['llm_agent', 'enhancement_agent', 'examination_agent', 'drafting_agent', 'communication_agent']);
    for (const step of view.steps) {
      expect(step).toMatchObject({ status: 'COMPLETED', attempts: 1 });
      expect(Date.parse(step.completed_at)).toBeGreaterThanOrEqual(Date.parse(step.started_at));
      expect(step.result).toBeTypeOf('object');
    }
    const missing = await fetch(`${stack.orchestrator.baseUrl}/tasks/no-such-task`);
    expect(missing.status).toBe(404);

    const list = await stack.get<{
      items: { status: string }[];
      total: number;
      limit: number;
    }>('/tasks?status=COMPLETED&task_type=create_blog_post&limit=5&count=true');
    expect(list.items).toHaveLength(5);
    expect(list.total).toBeGreaterThanOrEqual(21);
    expect(list.items.every((t) => t.status === 'COMPLETED')).toBe(true);
    expect((await fetch(`${stack.orchestrator.baseUrl}/tasks?limit=1000`)).status).toBe(400);
  });

  it('runs a repeated task_id once and answers the repeat with the existing state', async () => {
    const task_id = `blog-${run}-dup`;
    const request = { task_id, task_type: 'create_blog_post', payload: { topic: 'Once only' } };
    const [first, second] = await Promise.all([
      stack.submit(request, 60_000),
      stack.submit(request, 60_000),
    ]);
    // One is the final answer; the other the state at the time of the repeat: the workflow (five
    // steps) was still running then, and the repeat ran nothing of its own.
    const [final, repeat] = first['status'] === 'COMPLETED' ? [first, second] : [second, first];
    expect(final).toMatchObject({ task_id, status: 'COMPLETED', success: true, error: null });
    expect(repeat).toEqual({ task_id, status: 'RUNNING', success: false, result: null, error: null, completed_at: null });
    const again = await stack.submit(request);
    expect(again).toMatchObject({ task_id, status: 'COMPLETED', success: true });
    const rows = await stack.db.query(`SELECT id FROM tasks WHERE task_id = $1 AND parent_id IS NULL`, [task_id]);
    expect(rows).toHaveLength(1);
    const [{ count }] = await stack.db.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM tasks s JOIN tasks r ON s.root_id = r.id WHERE r.task_id = $1 AND s.parent_id IS NOT NULL`,
      [task_id],
    );
    expect(count).toBe(5);
  });

  it('answers a fire-and-forget publish on agent.<requester_id>.response and emits lifecycle events', async () => {
    const task_id = `blog-${run}-publish`;
    const answers = stack.nats.collect(agentResponseSubject('e2e_requester'));
    const completed = stack.nats.collect(taskEventSubject(TaskEvent.Completed));
    const progress = stack.nats.collect(taskEventSubject(TaskEvent.Progress));
    await stack.nats.flush();
    stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id, task_type: 'create_blog_post', payload: { topic: 'Published' }, requester_id: 'e2e_requester' });
    const [answer] = await answers.waitForCount(1, 60_000);
    expect(answer).toMatchObject({ task_id, status: 'COMPLETED', success: true });
    await waitFor('the completed event', () => completed.messages.find((m) => m['task_id'] === task_id));
    await waitFor('five progress events', () =>
      progress.messages.filter((m) => m['task_id'] === task_id).length === 5 ? true : undefined,
    );
    answers.stop();
    completed.stop();
    progress.stop();
  });

  it('accepts the same request over HTTP with 202 and the task id', async () => {
    const task_id = `blog-${run}-http`;
    const res = await fetch(`${stack.orchestrator.baseUrl}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task_id, task_type: 'create_blog_post', payload: { topic: 'Over HTTP' } }),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ task_id, status: 'RUNNING' });
    const done = await waitFor('the HTTP task to complete', async () => {
      const view = await stack.get<{ status: string }>(`/tasks/${task_id}`);
      return view.status === 'COMPLETED' ? view : undefined;
    });
    expect(done.status).toBe('COMPLETED');
  });

  it('counts workflows and step latencies in /metrics', async () => {
    const text = await (await fetch(`${stack.orchestrator.baseUrl}/metrics`)).text();
    const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? Number.NaN);
    const started = value(/^orchestrator_workflows_started_total\{task_type="create_blog_post"\} (\d+)$/m);
    const completed = value(/^orchestrator_workflows_finished_total\{task_type="create_blog_post",status="COMPLETED"\} (\d+)$/m);
    const [{ roots }] = await stack.db.query<{ roots: number }>(`SELECT count(*)::int AS roots FROM tasks WHERE parent_id IS NULL AND status = 'COMPLETED'`);
    expect(started).toBe(roots);
    expect(completed).toBe(roots);
    expect(value(/^orchestrator_step_duration_seconds_count\{agent="llm_agent",outcome="COMPLETED"\} (\d+)$/m)).toBe(roots);
    expect(text).toMatch(/^orchestrator_process_resident_memory_bytes \d+/m);
    expect(value(/^orchestrator_workflows_in_flight (\d+)$/m)).toBe(0);
    expect(value(/^orchestrator_transactions_waiting (\d+)$/m)).toBe(0);
    // The dependencies as readiness sees them, and the demo agents' load as the router does.
    for (const dependency of ['database', 'nats', 'redis']) expect(value(new RegExp(`^orchestrator_dependency_up\\{dependency="${dependency}"\\} (\\d+)$`, 'm'))).toBe(1);
    const agents = await stack.get<{ items: { name: string; capacity: number | null }[] }>('/agents');
    for (const agent of agents.items) {
      expect(value(new RegExp(`^orchestrator_agent_in_flight\\{agent="${agent.name}"\\} (\\d+)$`, 'm'))).toBe(0);
      if (agent.capacity !== null) expect(value(new RegExp(`^orchestrator_agent_capacity\\{agent="${agent.name}"\\} (\\d+)$`, 'm'))).toBe(agent.capacity);
    }
    expect(agents.items.map((agent) => agent.name)).toContain('llm_agent');
  });

  it('lists the workflow definitions and shows the plan a workflow runs', async () => {
    const workflows = await stack.get<{ items: { task_type: string; version: number; steps: { id: string }[] }[] }>('/workflows');
    expect(workflows.items.map((w) => [w.task_type, w.version, w.steps.map((s) => s.id)])).toEqual([
      ['create_blog_post', 1, STEPS],
      ['create_blog_post_approved', 1, ['draft', 'enhance', 'review', 'approve', 'export', 'publish']],
      ['fast_blog_post', 1, ['draft', 'enhance', 'review', 'export', 'publish']],
    ]);
    const view = await stack.get<{ plan: { version: number; steps: { id: string; timeout_ms: number }[] } }>(`/tasks/blog-${run}-status`);
    expect(view.plan.version).toBe(1);
    expect(view.plan.steps.map((s) => s.id)).toEqual(STEPS);
    expect(view.plan.steps[0]?.timeout_ms).toBe(30_000);
  });

  it('documents the HTTP API in OpenAPI at /docs', async () => {
    const doc = await stack.get<{
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>;
      components: { schemas: Record<string, { required?: string[] }> };
    }>('/docs-json');
    // Every route documents the body of its successful answer.
    const undocumented = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => {
          const ok = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'));
          return ok.length === 0 || ok.some(([, response]) => !Object.values(response.content ?? {}).some((media) => media.schema !== undefined));
        })
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(undocumented).toEqual([]);
    expect(Object.keys(doc.paths['/tasks'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/tasks/{taskId}']).toHaveProperty('get');
    expect(doc.paths['/tasks/{taskId}/cancel']).toHaveProperty('post');
    // task_id is optional: one is made up when absent.
    expect(doc.components.schemas['TaskRequestDoc']?.required).toEqual(['task_type']);
    expect((await fetch(`${stack.orchestrator.baseUrl}/docs`)).status).toBe(200);
  });

  it('reports readiness and liveness', async () => {
    const ready = await fetch(`${stack.orchestrator.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { info: Record<string, { status: string; mode?: string }> };
    expect(Object.keys(body.info).sort()).toEqual(['database', 'intake', 'nats', 'redis']);
    expect(body.info['intake']).toMatchObject({ status: 'up', mode: 'durable' });
    expect((await fetch(`${stack.orchestrator.baseUrl}/health/live`)).status).toBe(200);
  });
});
