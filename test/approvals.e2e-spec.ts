import { join } from 'node:path';
import { agentResponseSubject, ORCHESTRATOR_SIGNAL_SUBJECT, ORCHESTRATOR_TASK_SUBJECT } from '@orchestrator/contracts';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, screenshot } from './support/browser.js';
import { runCli, type CliRun } from './support/cli.js';
import { waitFor } from './support/orchestrator-process.js';
import { pairAgents } from './support/pair-agents.js';
import { useTestStack } from './support/test-stack.js';

const ROOT = new URL('..', import.meta.url).pathname;
const FIXTURES = join(ROOT, 'test', 'fixtures', 'waits');
const API_KEY = 'approvals-secret-key-0123456789';
const REQUESTER = 'e2e_requester';
const WORKFLOWS = 200;
/** How the 200 are decided: over NATS, HTTP, the command line, and in the browser (the approvals page, and one step panel). */
const BY_NATS = 95;
const BY_HTTP = 85;
const BY_CLI = 10;
const BY_PAGE = 9;

const idOf = (i: number): string => `approve-${i}`;

describe('200 workflows waiting for approval, on two replicas, one of them killed while they wait', () => {
  const stack = useTestStack({
    workflowsDir: FIXTURES,
    replicas: 2,
    env: (replica) => ({ INSTANCE_ID: `approvals-${replica + 1}`, API_KEY }),
    agents: pairAgents(),
  });
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    page = await openPage(browser, errors);
  });
  afterAll(async () => {
    await browser?.close();
  });

  const replica = (i: number): string => stack.orchestrators[i % stack.orchestrators.length]?.baseUrl ?? '';
  const authorized = { 'content-type': 'application/json', 'x-api-key': API_KEY };
  const waitingCount = async (): Promise<number> => {
    const [{ n }] = await stack.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tasks s JOIN tasks r ON r.id = s.root_id WHERE r.task_type = 'e2e_approval' AND s.step_key = 'approve' AND s.status = 'WAITING'`,
    );
    return n;
  };

  const cli = (...args: string[]): Promise<CliRun> => runCli({ API_KEY }, ...args);

  it('each is approved (or rejected) once, over NATS, HTTP, the CLI and the dashboard, and goes on', async () => {
    await waitFor('the two agents', async () => {
      const body = (await (await fetch(`${replica(0)}/agents`, { headers: authorized })).json()) as { items: unknown[] };
      return body.items.length === 2 ? true : undefined;
    });
    const finals = stack.nats.collect(agentResponseSubject(REQUESTER));
    for (let i = 0; i < WORKFLOWS; i++) {
      stack.nats.publish(ORCHESTRATOR_TASK_SUBJECT, { task_id: idOf(i), task_type: 'e2e_approval', payload: { text: `post ${i}` }, requester_id: REQUESTER });
    }
    await stack.nats.flush();
    await waitFor(`${WORKFLOWS} workflows waiting for approval`, async () => ((await waitingCount()) === WORKFLOWS ? true : undefined), 90_000, 250);
    const started = Date.now();
    const mark = (what: string): void => console.log(`approvals: ${what} at +${((Date.now() - started) / 1000).toFixed(1)} s`);

    // One replica dies while they wait; the other goes on serving, and the dead one comes back.
    await stack.orchestrators[0]?.kill();
    const survivor = replica(1);
    const listed = await (await fetch(`${survivor}/approvals?limit=100`, { headers: authorized })).json() as { items: { task_id: string; input: unknown }[]; next_cursor: string | null };
    expect(listed.items).toHaveLength(100);
    expect(listed.next_cursor).not.toBeNull();
    expect(listed.items.find((item) => item.task_id === idOf(0))?.input).toEqual({ text: 'POST 0' });
    await stack.restart({ replica: 0 });
    mark('replica 1 killed and started again');

    let next = 0;
    const take = (count: number): number[] => Array.from({ length: count }, () => next++);

    // NATS: a plain request on agent.orchestrator_agent.signal, answered by either replica.
    const overNats = await Promise.all(
      take(BY_NATS).map((i) => stack.nats.request(ORCHESTRATOR_SIGNAL_SUBJECT, { task_id: idOf(i), signal: 'approval', payload: { approved: true, comment: 'nats' }, requester_id: 'e2e_reviewer' })),
    );
    expect(overNats.filter((reply) => reply['status'] !== 'ACCEPTED')).toEqual([]);
    mark(`${BY_NATS} approved over NATS`);

    // HTTP, on both replicas.
    const overHttp = await Promise.all(
      take(BY_HTTP).map(async (i) => {
        const res = await fetch(`${replica(i)}/tasks/${idOf(i)}/signals/approval`, { method: 'POST', headers: authorized, body: JSON.stringify({ approved: true, comment: 'http' }) });
        return res.status;
      }),
    );
    expect(overHttp.filter((status) => status !== 202)).toEqual([]);
    mark(`${BY_HTTP} approved over HTTP`);

    // The command line, a few at a time.
    for (const group of chunks(take(BY_CLI), 10)) {
      const runs = await Promise.all(group.map((i) => cli('--url', replica(i), 'approve', idOf(i), '--comment', 'cli')));
      for (const run of runs) {
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
        expect(run.stdout).toMatch(/^approve-\d+: approval accepted by step approve\n$/);
      }
    }
    const refused = await cli('--url', replica(0), 'approve', idOf(0));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('code: TASK_FINISHED');
    mark(`${BY_CLI} approved with the CLI`);

    // The dashboard: the key once, then the approvals page, Approve on each card.
    await page.goto(`${replica(0)}/ui/approvals`);
    const dialog = page.getByRole('dialog', { name: 'API key required' });
    await dialog.waitFor();
    await dialog.getByLabel('API key').fill(API_KEY);
    await dialog.getByRole('button', { name: 'Use this key' }).click();
    await page.locator('[data-approval]').first().waitFor({ timeout: 15_000 });
    await screenshot(page, 'dashboard-approvals');
    for (const i of take(BY_PAGE)) {
      const card = page.locator(`[data-approval="${idOf(i)}"]`);
      await card.waitFor({ timeout: 15_000 });
      await card.locator('[data-role="approval-comment"]').fill('dashboard');
      await card.locator('[data-role="approve"]').click();
      await waitFor(`${idOf(i)} approved from the page`, async () => ((await stack.db.query(`SELECT 1 FROM tasks WHERE task_id = $1 AND parent_id IS NULL AND status = 'COMPLETED'`, [idOf(i)])).length > 0 ? true : undefined));
    }
    mark(`${BY_PAGE} approved on the approvals page`);

    // The rest: rejected from their task's page, in the step panel of the waiting step.
    const rest = Array.from({ length: WORKFLOWS - next }, () => next++);
    for (const i of rest) {
      // The same origin as the approvals page: the tab keeps the API key per origin.
      await page.goto(`${replica(0)}/ui/tasks/${idOf(i)}`);
      await page.locator(`.react-flow [data-step="approve"][data-status="WAITING"]`).click();
      const panel = page.locator('[data-panel-step="approve"]');
      await panel.locator('[data-role="approval"]').waitFor({ timeout: 60_000 });
      if (i === rest[0]) await screenshot(page, 'dashboard-approval-step');
      await panel.locator('[data-role="approval-comment"]').fill('not this one');
      await panel.locator('[data-role="reject"]').click();
      // The signal goes to the server and its answer comes back: slow on a busy machine.
      await panel.locator('[data-role="approval-sent"]').waitFor({ timeout: 60_000 });
    }

    const answers = await finals.waitForCount(WORKFLOWS, 120_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // Each answered once, each as it was decided.
    expect(finals.messages).toHaveLength(WORKFLOWS);
    const byId = new Map(answers.map((answer) => [String(answer['task_id']), answer]));
    expect(byId.size).toBe(WORKFLOWS);
    const comments = new Map<string, number>();
    for (let i = 0; i < WORKFLOWS; i++) {
      const answer = byId.get(idOf(i));
      const output = (answer?.['result'] as { output?: { approved: boolean; comment: string; published: string | null } } | undefined)?.output;
      expect(answer?.['status']).toBe('COMPLETED');
      expect(output?.published).toBe(output?.approved ? `[POST ${i}]` : null);
      comments.set(output?.comment ?? '?', (comments.get(output?.comment ?? '?') ?? 0) + 1);
    }
    expect(Object.fromEntries(comments)).toEqual({ nats: BY_NATS, http: BY_HTTP, cli: BY_CLI, dashboard: BY_PAGE, 'not this one': rest.length });

    // Who signalled is in each history: the NATS requester, or the API key's name over HTTP.
    const senders = await stack.db.query<{ via: string; by: string | null; n: number }>(
      `SELECT data->>'via' AS via, data->>'by' AS by, count(*)::int AS n FROM task_events WHERE task_type = 'e2e_approval' AND kind = 'signal_received' GROUP BY 1, 2 ORDER BY 1`,
    );
    expect(senders).toEqual([
      { via: 'http', by: expect.stringMatching(/^api-key:[0-9a-f]{8}$/) as unknown, n: WORKFLOWS - BY_NATS },
      { via: 'nats', by: 'e2e_reviewer', n: BY_NATS },
    ]);
    expect(await waitingCount()).toBe(0);
    expect(errors).toEqual([]);
    finals.stop();
  }, 600_000);
});

function chunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));
}
