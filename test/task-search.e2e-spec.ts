import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskListView } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import { HistoryAgent } from './support/history-agent.js';
import { pairAgents } from './support/pair-agents.js';
import { useTestStack } from './support/test-stack.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'apps/cli/bin/orchestrator.js');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'workflows');

describe('searching tasks on the server', () => {
  const hist = new HistoryAgent();
  const stack = useTestStack({ workflowsDir: FIXTURES, agents: [hist.agent, ...pairAgents()], waitForAgents: 3 });
  let middle = '';

  async function search(query: string): Promise<{ status: number; body: TaskListView & { code?: string; message?: string } }> {
    const res = await fetch(`${stack.orchestrator.baseUrl}/tasks?${query}`);
    return { status: res.status, body: (await res.json()) as TaskListView & { code?: string; message?: string } };
  }
  const ids = async (query: string): Promise<string[]> => {
    const { status, body } = await search(query);
    expect(status, JSON.stringify(body)).toBe(200);
    return body.items.map((task) => task.task_id);
  };

  it('finds tasks by status in any case, type, requester, agent, error text, payload fields and times, combined', async () => {
    const pair = (task_id: string, payload: Record<string, unknown>, requester_id: string) =>
      stack.submit({ task_id, task_type: 'e2e_pair', payload: { text: task_id, ...payload }, requester_id });
    expect(await pair('s-1', { customer: 42, region: { city: 'Paris' } }, 'req_a')).toMatchObject({ status: 'COMPLETED' });
    expect(await pair('s-2', { customer: '42' }, 'req_b')).toMatchObject({ status: 'COMPLETED' });
    expect(await pair('s-3', { customer: 7, note: '100% sure' }, 'req_a')).toMatchObject({ status: 'COMPLETED' });
    await sleep(20);
    middle = new Date().toISOString();
    await sleep(20);
    hist.failing.add('s-4');
    expect(await stack.submit({ task_id: 's-4', task_type: 'e2e_resume', payload: { run: 's-4' } })).toMatchObject({ status: 'FAILED' });
    expect(await stack.submit({ task_id: 's-5', task_type: 'e2e_resume', payload: { run: 's-5' } })).toMatchObject({ status: 'COMPLETED' });

    expect(await ids('')).toEqual(['s-5', 's-4', 's-3', 's-2', 's-1']);
    expect(await ids('status=failed')).toEqual(['s-4']);
    expect(await ids('status=Completed&task_type=e2e_resume')).toEqual(['s-5']);
    expect(await ids('requester_id=req_a')).toEqual(['s-3', 's-1']);
    expect(await ids('agent=e2e_first')).toEqual(['s-3', 's-2', 's-1']);
    expect(await ids('agent=e2e_hist')).toEqual(['s-5', 's-4']);
    expect(await ids('error=B%20IS%20DOWN')).toEqual(['s-4']);
    // % and _ are text, not patterns.
    expect(await ids('error=%25%25%25')).toEqual([]);
    expect(await ids('payload.customer=42')).toEqual(['s-2', 's-1']);
    expect(await ids('payload.customer=%2242%22')).toEqual(['s-2']);
    expect(await ids('payload.region.city=Paris')).toEqual(['s-1']);
    expect(await ids(`created_after=${middle}`)).toEqual(['s-5', 's-4']);
    expect(await ids(`created_before=${middle}`)).toEqual(['s-3', 's-2', 's-1']);
    expect(await ids(`finished_before=${middle}`)).toEqual(['s-3', 's-2', 's-1']);
    expect(await ids(`finished_after=${middle}&status=failed`)).toEqual(['s-4']);
    expect(await ids('requester_id=req_a&payload.customer=42&agent=e2e_second')).toEqual(['s-1']);
    expect(await ids('requester_id=req_b&agent=e2e_hist')).toEqual([]);
  });

  it('pages a search by cursor, counts it when asked', async () => {
    const first = await search('agent=e2e_first&limit=2&count=true');
    expect(first.body.items.map((task) => task.task_id)).toEqual(['s-3', 's-2']);
    expect(first.body.total).toBe(3);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await search(`agent=e2e_first&limit=2&cursor=${first.body.next_cursor ?? ''}`);
    expect(second.body.items.map((task) => task.task_id)).toEqual(['s-1']);
    expect(second.body.next_cursor).toBeNull();
  });

  it('refuses a bad filter naming it', async () => {
    const refusals: [string, string][] = [
      ['status=done', 'status: must be one of PENDING, QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED, WAITING (in any case)'],
      ['created_after=yesterday', 'created_after: must be an ISO 8601 time, e.g. 2026-11-30T12:00:00Z'],
      ['error=ab', 'error: must be 3 to 200 characters'],
      ['agent=No.Agent', 'agent: must be an agent name matching'],
      ['payload.a..b=1', 'payload.a..b: must be payload. and up to 5 field names'],
      ['colour=red', 'colour: is not a parameter of this route'],
      ['limit=1000', 'limit: must be at most 100'],
    ];
    for (const [query, message] of refusals) {
      const { status, body } = await search(query);
      expect({ query, status, code: body.code }).toEqual({ query, status: 400, code: 'INVALID_REQUEST' });
      expect(body.message).toContain(message);
    }
  });

  it('is what the command line searches with', async () => {
    const child = spawn(process.execPath, [CLI, 'list', '--agent', 'e2e_first', '--payload', 'customer=42', '--created-before', middle, '--json'], {
      env: { ...process.env, ORCHESTRATOR_URL: stack.orchestrator.baseUrl },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const status = await new Promise((resolve) => child.on('close', resolve));
    expect(status).toBe(0);
    expect((JSON.parse(out) as TaskListView).items.map((task) => task.task_id)).toEqual(['s-2', 's-1']);
  });
});
