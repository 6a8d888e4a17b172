import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from '@orchestrator/agent-sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, screenshot } from './support/browser.js';
import { waitFor } from './support/orchestrator-process.js';
import { testEnv } from './support/test-env.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'dashboard');

/** The one agent of e2e_dash: waits the step's delay_ms, fails the steps it is told to, and counts what it was given. */
class DashAgent {
  /** Handler runs by `<task_id>/<step>`. */
  readonly deliveries = new Map<string, number>();
  readonly failing = new Set<string>();
  readonly agent = new Agent({ name: 'e2e_dash', agentType: 'test', natsUrl: testEnv().natsUrl, maxConcurrency: 4, heartbeatIntervalMs: 500 }).handle(
    'e2e_work',
    async (payload) => {
      const key = `${String(payload['run'])}/${String(payload['step'])}`;
      this.deliveries.set(key, (this.deliveries.get(key) ?? 0) + 1);
      await sleep(typeof payload['delay_ms'] === 'number' ? payload['delay_ms'] : 0);
      if (this.failing.has(String(payload['step']))) throw new Error(`step ${String(payload['step'])} was asked to fail`);
      return { step: payload['step'], part: payload['part'] ?? null };
    },
  );

  count(run: string, step: string): number {
    return this.deliveries.get(`${run}/${step}`) ?? 0;
  }
}

describe('the dashboard at /ui, in a browser', () => {
  const dash = new DashAgent();
  const stack = useTestStack({ workflowsDir: FIXTURES, agents: [dash.agent], waitForAgents: 1 });
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    errors.length = 0;
    dash.failing.clear();
    page = await openPage(browser, errors);
  });
  afterEach(async () => {
    await page.close();
    // Nothing the page ran threw.
    expect(errors).toEqual([]);
  });

  async function submit(taskId: string, payload: Record<string, unknown>, taskType = 'e2e_dash'): Promise<void> {
    const res = await fetch(`${stack.orchestrator.baseUrl}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task_id: taskId, task_type: taskType, payload }),
    });
    expect(res.status).toBe(202);
  }

  const listed = async (): Promise<(string | null)[]> => Promise.all((await page.locator('tr[data-task]').all()).map((row) => row.getAttribute('data-task')));

  const ui = (path = ''): string => `${stack.orchestrator.baseUrl}/ui/${path}`;
  const node = (step: string, status?: string) => page.locator(`.react-flow [data-step="${step}"]${status ? `[data-status="${status}"]` : ''}`);

  it('draws a workflow live: its slow middle step goes from pending to running to completed without a reload', async () => {
    await submit('dash-live', { first_ms: 2500, middle_ms: 3000, parts: ['a', 'b', 'c', 'd', 'e'] });
    let loads = 0;
    page.on('load', () => (loads += 1));
    // A link to a workflow opens the app on its page (the server answers /ui/* with the app).
    await page.goto(ui('tasks/dash-live'));
    await node('first', 'RUNNING').waitFor({ timeout: 10_000 });
    await node('middle', 'PENDING').waitFor();
    await node('middle', 'RUNNING').waitFor({ timeout: 15_000 });
    // The items of the for_each step are drawn inside its node, each with its status.
    await page.locator('.react-flow [data-step="parts"] [data-item="parts[4]"][data-status="COMPLETED"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('.react-flow [data-step="parts"] [data-item]').count()).toBe(5);
    await node('middle').click();
    const panel = page.locator('[data-panel-step="middle"]');
    await panel.waitFor();
    expect(await panel.textContent()).toContain('"step": "middle"');
    expect(await panel.textContent()).toContain('dispatched to e2e_dash attempt 1');
    // The graph is fitted again to its narrower box beside the panel.
    await page.waitForTimeout(300);
    await screenshot(page, 'dashboard-workflow');
    await node('middle', 'COMPLETED').waitFor({ timeout: 15_000 });
    await node('last', 'COMPLETED').waitFor({ timeout: 10_000 });
    await page.locator('[data-task-status="COMPLETED"]').waitFor();
    // One bar per attempt on the timeline: first, middle, last and the five items.
    await expect.poll(() => page.locator('.gantt-bar[data-outcome="completed"]').count()).toBe(8);
    expect(await page.locator('[data-step="middle"] [data-role="attempts"]').textContent()).toBe('attempt 1/1');
    expect(loads).toBe(1);
  });

  it('retries a failed workflow from the page: it completes and the steps that had completed are not sent again', async () => {
    dash.failing.add('last');
    await submit('dash-retry', { parts: ['x', 'y'] });
    await page.goto(ui('tasks/dash-retry'));
    await page.locator('[data-task-status="FAILED"]').waitFor({ timeout: 15_000 });
    await node('last', 'FAILED').waitFor();
    expect(await page.locator('[data-role="task-error"]').textContent()).toContain('step last was asked to fail');
    await screenshot(page, 'dashboard-failed');
    expect([dash.count('dash-retry', 'first'), dash.count('dash-retry', 'middle'), dash.count('dash-retry', 'parts'), dash.count('dash-retry', 'last')]).toEqual([1, 1, 2, 1]);

    dash.failing.clear();
    await page.getByRole('button', { name: 'Retry' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.textContent()).toContain('are not sent again');
    await dialog.getByRole('button', { name: 'Retry' }).click();
    await page.locator('[data-task-status="COMPLETED"]').waitFor({ timeout: 15_000 });
    await node('last', 'COMPLETED').waitFor();
    expect([dash.count('dash-retry', 'first'), dash.count('dash-retry', 'middle'), dash.count('dash-retry', 'parts'), dash.count('dash-retry', 'last')]).toEqual([1, 1, 2, 2]);
  });

  it("shows the server's refusal when an action no longer applies", async () => {
    await submit('dash-cancel', { middle_ms: 5000, parts: ['x'] });
    await page.goto(ui('tasks/dash-cancel'));
    await node('middle', 'RUNNING').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    // Someone else cancels it first.
    expect((await fetch(`${stack.orchestrator.baseUrl}/tasks/dash-cancel/cancel`, { method: 'POST' })).status).toBe(200);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.getByRole('alert').waitFor();
    expect(await dialog.getByRole('alert').textContent()).toBe('task dash-cancel has already finished as CANCELLED');
    await dialog.getByRole('button', { name: 'Back' }).click();
    await page.locator('[data-task-status="CANCELLED"]').waitFor({ timeout: 10_000 });
  });

  it('lists tasks live, filters them by status and opens one by its task_id', async () => {
    await page.goto(ui());
    await page.locator('tr[data-task="dash-live"]').waitFor();
    await submit('dash-list', { first_ms: 1500, parts: ['x'] });
    // The new task appears, then completes, without a reload.
    await page.locator('tr[data-task="dash-list"]').waitFor({ timeout: 10_000 });
    await page.locator('tr[data-task="dash-list"][data-status="COMPLETED"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('tr[data-task="dash-list"]').textContent()).toContain('5/5');
    await screenshot(page, 'dashboard-tasks');

    await page.getByLabel('status').selectOption('CANCELLED');
    await page.locator('tr[data-task]').first().waitFor();
    await expect.poll(listed).toEqual(['dash-cancel']);
    expect(page.url()).toContain('status=CANCELLED');

    await page.getByLabel('search by task_id').fill('dash-retry');
    await page.getByLabel('search by task_id').press('Enter');
    await page.locator('[data-task-status="COMPLETED"]').waitFor();
    expect(new URL(page.url()).pathname).toBe('/ui/tasks/dash-retry');
  });

  it("shows an agent's in-flight count rise and fall", async () => {
    await page.goto(ui('agents'));
    const inFlight = page.locator('[data-agent="e2e_dash"] [data-role="in-flight"]');
    await inFlight.waitFor();
    expect(await inFlight.getAttribute('data-value')).toBe('0');
    expect(await page.locator('[data-agent="e2e_dash"]').textContent()).toContain('e2e_work');
    await submit('dash-load-1', { first_ms: 3000, parts: ['x'] });
    await submit('dash-load-2', { first_ms: 3000, parts: ['x'] });
    await waitFor('the page to show 2 in flight', async () => ((await inFlight.getAttribute('data-value')) === '2' ? true : undefined), 10_000, 50);
    await screenshot(page, 'dashboard-agents');
    await waitFor('the page to show none in flight', async () => ((await inFlight.getAttribute('data-value')) === '0' ? true : undefined), 20_000, 50);
  });

  it('draws every workflow definition', async () => {
    await page.goto(ui('workflows'));
    const card = page.locator('[data-workflow="e2e_dash"][data-version="1"]');
    await card.waitFor();
    await expect.poll(() => card.locator('.react-flow__node').count()).toBe(4);
    // Edges are drawn once their nodes are measured, a frame or more after the nodes.
    await expect.poll(() => card.locator('.react-flow__edge').count()).toBe(4);
    await screenshot(page, 'dashboard-workflows');
  });

  it('asks for the API key when the orchestrator requires one, and keeps it for the tab', async () => {
    const guarded = await stack.startOrchestrator({ API_KEY: 'dashboard-secret-key' });
    await page.goto(`${guarded.baseUrl}/ui/`);
    const dialog = page.getByRole('dialog', { name: 'API key required' });
    await dialog.waitFor();
    await screenshot(page, 'dashboard-api-key');
    await dialog.getByLabel('API key').fill('not-the-key');
    await dialog.getByRole('button', { name: 'Use this key' }).click();
    await dialog.getByText('The key given was refused').waitFor();
    await dialog.getByLabel('API key').fill('dashboard-secret-key');
    await dialog.getByRole('button', { name: 'Use this key' }).click();
    await page.locator('tr[data-task="dash-live"]').waitFor();
    expect(await dialog.count()).toBe(0);
    // A reload in the same tab keeps the key: no question this time.
    await page.reload();
    await page.locator('tr[data-task="dash-live"]').waitFor();
    expect(await page.getByRole('dialog').count()).toBe(0);
    await guarded.stop();
  });

  it('submits a task from the form, showing the server\'s refusal as it says it, and opens the task it started', async () => {
    await page.goto(ui());
    await page.getByRole('button', { name: 'New task' }).click();
    const form = page.getByRole('form', { name: 'new task' });
    await form.getByLabel('new task type').fill('e2e_dash');
    const payload = form.getByLabel('payload');
    await expect.poll(() => payload.inputValue()).toContain('"parts"');
    await payload.fill('{}');
    await form.getByRole('button', { name: 'Submit' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toBe('payload.parts: is required');
    await payload.fill('{"parts": ');
    await form.getByRole('button', { name: 'Submit' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/^payload: is not valid JSON/);
    await payload.fill('{"parts": ["from the form"]}');
    await form.getByLabel('priority').selectOption('HIGH');
    await form.getByLabel('task_id').fill('dash-form');
    await form.getByRole('button', { name: 'Submit' }).click();
    await page.waitForURL('**/ui/tasks/dash-form');
    await page.locator('[data-task-status="COMPLETED"]').waitFor({ timeout: 15_000 });
    expect(await stack.get<{ priority: string; status: string }>('/tasks/dash-form')).toMatchObject({ priority: 'HIGH', status: 'COMPLETED' });
    expect(dash.count('dash-form', 'parts')).toBe(1);
  });

  it('re-runs a finished task from its page under a new task_id, leaving the first as it was', async () => {
    await submit('dash-again', { parts: ['x'] });
    await page.goto(ui('tasks/dash-again'));
    await page.locator('[data-task-status="COMPLETED"]').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Re-run' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.textContent()).toContain('runs again from the start under a new task_id');
    await dialog.getByRole('button', { name: 'Re-run' }).click();
    await page.waitForURL(/\/ui\/tasks\/dash-again\.rerun-[0-9a-f]{8}$/);
    const rerun = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1) ?? '');
    await page.locator('[data-task-status="COMPLETED"]').waitFor({ timeout: 15_000 });
    expect([dash.count(rerun, 'first'), dash.count(rerun, 'last'), dash.count('dash-again', 'first'), dash.count('dash-again', 'last')]).toEqual([1, 1, 1, 1]);
    expect((await stack.get<{ status: string }>('/tasks/dash-again')).status).toBe('COMPLETED');
  });

  it('filters by task type and pages through more tasks than a page holds, newer and older', async () => {
    // 27 tasks of another type, one after another: newest first they are note-26 … note-0.
    for (let i = 0; i < 27; i++) await submit(`note-${i}`, { note: `n${i}` }, 'e2e_dash_note');
    const newestFirst = Array.from({ length: 27 }, (_, i) => `note-${26 - i}`);
    await page.goto(ui());
    await page.locator('tr[data-task]').first().waitFor();
    await page.getByLabel('task type').selectOption('e2e_dash_note');
    await expect.poll(listed, { timeout: 10_000 }).toEqual(newestFirst.slice(0, 25));
    expect(new URL(page.url()).searchParams.get('task_type')).toBe('e2e_dash_note');
    expect(await page.locator('tr[data-task] td:nth-child(2)').allTextContents()).toEqual(Array.from({ length: 25 }, () => 'e2e_dash_note'));
    const pager = page.getByRole('navigation', { name: 'pages' });
    await pager.getByRole('button', { name: 'Older →' }).click();
    await expect.poll(listed, { timeout: 10_000 }).toEqual(newestFirst.slice(25));
    expect(await pager.getByText('page 2').count()).toBe(1);
    expect(await pager.getByRole('button', { name: 'Older →' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: '← Newer' }).click();
    await expect.poll(listed, { timeout: 10_000 }).toEqual(newestFirst.slice(0, 25));
    // The other type: none of the notes, and tasks of e2e_dash only (this file starts some before).
    await submit('dash-typed', { parts: ['x'] });
    await page.getByLabel('task type').selectOption('e2e_dash');
    await expect.poll(async () => (await listed()).includes('dash-typed'), { timeout: 10_000 }).toBe(true);
    expect(new Set(await page.locator('tr[data-task] td:nth-child(2)').allTextContents())).toEqual(new Set(['e2e_dash']));
  });

  it('asks for the list every two seconds when the event stream cannot be had', async () => {
    // No stream for this page: only polling can bring a new task.
    await page.route('**/events/stream**', (route) => route.abort());
    await page.goto(ui());
    await page.locator('[data-stream="down"]').waitFor({ timeout: 10_000 });
    await page.locator('tr[data-task]').first().waitFor();
    await submit('dash-polled', { parts: ['x'] });
    const submittedAt = Date.now();
    await page.locator('tr[data-task="dash-polled"]').waitFor({ timeout: 10_000 });
    await page.locator('tr[data-task="dash-polled"][data-status="COMPLETED"]').waitFor({ timeout: 15_000 });
    console.log(`polling: the new task listed ${Date.now() - submittedAt} ms after it was submitted (every 2 s while the stream is down)`);
  });
});
