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

/**
 * The one agent of e2e_dash: holds the steps it is told to until the test lets them go (or they
 * are cancelled), waits the step's delay_ms, fails the steps it is told to, and counts what it
 * was given. Holding, not waiting a time, keeps a step running for as long as a page slow to load
 * on a busy machine needs to see it.
 */
class DashAgent {
  /** Handler runs by `<task_id>/<step>`. */
  readonly deliveries = new Map<string, number>();
  readonly failing = new Set<string>();
  private readonly holds = new Map<string, { released: Promise<void>; release: () => void }>();

  hold(run: string, step: string): void {
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.set(`${run}/${step}`, { released, release });
  }

  release(run: string, step: string): void {
    this.holds.get(`${run}/${step}`)?.release();
  }

  readonly agent = new Agent({ name: 'e2e_dash', agentType: 'test', natsUrl: testEnv().natsUrl, maxConcurrency: 4, heartbeatIntervalMs: 500 }).handle(
    'e2e_work',
    async (payload, ctx) => {
      const key = `${String(payload['run'])}/${String(payload['step'])}`;
      this.deliveries.set(key, (this.deliveries.get(key) ?? 0) + 1);
      if (payload['step'] === 'middle') ctx.progress(0.9, 'almost there');
      const held = this.holds.get(key);
      if (held) await Promise.race([held.released, new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))]);
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
    dash.hold('dash-live', 'first');
    dash.hold('dash-live', 'middle');
    await submit('dash-live', { parts: ['a', 'b', 'c', 'd', 'e'] });
    let loads = 0;
    page.on('load', () => (loads += 1));
    // A link to a workflow opens the app on its page (the server answers /ui/* with the app).
    await page.goto(ui('tasks/dash-live'));
    await node('first', 'RUNNING').waitFor({ timeout: 30_000 });
    await node('middle', 'PENDING').waitFor();
    dash.release('dash-live', 'first');
    await node('middle', 'RUNNING').waitFor({ timeout: 30_000 });
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
    dash.release('dash-live', 'middle');
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
    // The bar says what failed: three steps done, one failed, none counted done that did not complete.
    const bar = page.locator('.page-head [data-role="steps-progress"]');
    expect([await bar.getAttribute('data-done'), await bar.getAttribute('data-failed'), await bar.getAttribute('data-total')]).toEqual(['3', '1', '4']);
    expect(await bar.textContent()).toContain('3/4 steps · 1 failed');
    await screenshot(page, 'dashboard-failed');
    expect([dash.count('dash-retry', 'first'), dash.count('dash-retry', 'middle'), dash.count('dash-retry', 'parts'), dash.count('dash-retry', 'last')]).toEqual([1, 1, 2, 1]);

    dash.failing.clear();
    await page.getByRole('button', { name: 'Retry' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.textContent()).toContain('are not sent again');
    await dialog.getByRole('button', { name: 'Retry' }).click();
    await page.locator('[data-task-status="COMPLETED"]').waitFor({ timeout: 15_000 });
    await node('last', 'COMPLETED').waitFor();
    // Its second attempt in all, the first of this run (the plan gives each run one).
    expect(await node('last').locator('[data-role="attempts"]').textContent()).toBe('attempt 1/1');
    expect([dash.count('dash-retry', 'first'), dash.count('dash-retry', 'middle'), dash.count('dash-retry', 'parts'), dash.count('dash-retry', 'last')]).toEqual([1, 1, 2, 2]);
  });

  it('retries a workflow from a step with an edited input, from the step panel', async () => {
    await submit('dash-from', { parts: ['x'] });
    await page.goto(ui('tasks/dash-from'));
    await page.locator('[data-task-status="COMPLETED"]').waitFor({ timeout: 15_000 });
    await node('middle').click();
    await page.getByRole('button', { name: 'Retry from here' }).click();
    const dialog = page.getByRole('dialog', { name: 'Retry from step middle?' });
    const input = dialog.getByLabel('step input');
    expect(JSON.parse(await input.inputValue())).toMatchObject({ run: 'dash-from', step: 'middle' });
    await input.fill('{ broken');
    await dialog.getByRole('button', { name: 'Retry from here' }).click();
    expect(await dialog.getByRole('alert').textContent()).toMatch(/^input: not JSON/);
    await input.fill(JSON.stringify({ run: 'dash-from-edited', step: 'middle', delay_ms: 0 }));
    await dialog.getByRole('button', { name: 'Retry from here' }).click();
    await page.locator('[data-task-status="RUNNING"], [data-task-status="COMPLETED"]').first().waitFor();
    await waitFor('the retried workflow to complete', () => (dash.count('dash-from', 'last') === 2 ? true : undefined), 15_000);
    await page.locator('[data-task-status="COMPLETED"]').waitFor({ timeout: 15_000 });
    // middle went again with the edited input, last after it; first and the for_each beside middle kept their results.
    expect([dash.count('dash-from', 'first'), dash.count('dash-from', 'middle'), dash.count('dash-from-edited', 'middle'), dash.count('dash-from', 'parts'), dash.count('dash-from', 'last')]).toEqual([1, 1, 1, 1, 2]);
  });

  it("shows the server's refusal when an action no longer applies", async () => {
    dash.hold('dash-cancel', 'middle');
    await submit('dash-cancel', { parts: ['x'] });
    await page.goto(ui('tasks/dash-cancel'));
    await node('middle', 'RUNNING').waitFor({ timeout: 30_000 });
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

  it('lists tasks live, searches them on the server with the search kept in the URL, and opens one by its task_id', async () => {
    await page.goto(ui());
    await page.locator('tr[data-task="dash-live"]').waitFor();
    await submit('dash-list', { first_ms: 1500, parts: ['x'] });
    // The new task appears, then completes, without a reload.
    await page.locator('tr[data-task="dash-list"]').waitFor({ timeout: 10_000 });
    await page.locator('tr[data-task="dash-list"][data-status="COMPLETED"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('tr[data-task="dash-list"]').textContent()).toContain('4/4');
    await screenshot(page, 'dashboard-tasks');

    await page.getByLabel('status').selectOption('CANCELLED');
    await page.locator('tr[data-task]').first().waitFor();
    await expect.poll(listed).toEqual(['dash-cancel']);
    expect(page.url()).toContain('status=CANCELLED');

    // Searched on the server, kept in the URL: a reload shows the same search.
    await page.getByRole('button', { name: 'more filters' }).click();
    await page.getByLabel('status').selectOption('');
    await page.getByLabel('payload fields').fill('first_ms=1500');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(listed).toEqual(['dash-list']);
    await page.getByLabel('payload fields').fill('');
    await page.getByLabel('error text').fill('BY REQUEST');
    await page.getByLabel('error text').press('Enter');
    await expect.poll(listed).toEqual(['dash-cancel']);
    expect(new URL(page.url()).searchParams.get('error')).toBe('BY REQUEST');
    await page.reload();
    await expect.poll(listed).toEqual(['dash-cancel']);
    expect(await page.getByLabel('error text').inputValue()).toBe('BY REQUEST');

    await page.getByLabel('open a task by its task_id').fill('dash-retry');
    await page.getByLabel('open a task by its task_id').press('Enter');
    await page.locator('[data-task-status="COMPLETED"]').waitFor();
    expect(new URL(page.url()).pathname).toBe('/ui/tasks/dash-retry');
  });

  it('keeps the selected step in the URL, fits the graph beside the panel, and shows progress only while a step runs', async () => {
    dash.hold('dash-panel', 'middle');
    await submit('dash-panel', { parts: ['x'] });
    await page.goto(ui('tasks/dash-panel?step=middle'));
    const panel = page.locator('[data-panel-step="middle"]');
    await panel.waitFor();
    await node('middle', 'RUNNING').waitFor({ timeout: 30_000 });
    await expect.poll(async () => panel.locator('.facts').textContent(), { timeout: 30_000 }).toContain('90% almost there');
    dash.release('dash-panel', 'middle');
    await node('middle', 'COMPLETED').waitFor({ timeout: 15_000 });
    // The facts of a completed step show no progress (its history still has the report).
    await expect.poll(() => panel.locator('.facts dt', { hasText: 'progress' }).count()).toBe(0);

    await node('last').click();
    await page.locator('[data-panel-step="last"]').waitFor();
    expect(new URL(page.url()).searchParams.get('step')).toBe('last');
    // Every node is inside the graph's box once it is fitted to its narrower width.
    const box = await page.locator('.graph-card .react-flow').boundingBox();
    await expect
      .poll(async () => {
        const nodes = await Promise.all((await page.locator('.react-flow .react-flow__node').all()).map((n) => n.boundingBox()));
        return nodes.every((b) => box !== null && b !== null && b.x >= box.x - 1 && b.y >= box.y - 1 && b.x + b.width <= box.x + box.width + 1 && b.y + b.height <= box.y + box.height + 1);
      })
      .toBe(true);
    // The graph's card ends with the graph and its legend, not stretched to the panel's length.
    const card = await page.locator('.graph-card').boundingBox();
    expect(card !== null && box !== null && card.y + card.height - (box.y + box.height) < 90).toBe(true);
    await page.reload();
    await page.locator('[data-panel-step="last"]').waitFor();
    await page.getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.has('step')).toBe(false);
  });

  it('shows JSON folded and to copy, the output before the steps, long strings cut', async () => {
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await submit('dash-json', { parts: ['y'.repeat(600), 'z'] });
    await page.goto(ui('tasks/dash-json'));
    await page.locator('[data-task-status="COMPLETED"]').waitFor({ timeout: 15_000 });
    const result = page.locator('[data-role="result"] [data-role="json"]');
    await result.waitFor();
    const keys = await result.locator(':scope > .json-branch > .json-children > .json-line > .json-key, :scope > .json-branch > .json-children > .json-branch > .json-line > .json-key').allTextContents();
    expect(keys.slice(0, 2)).toEqual(['"output": ', '"steps": ']);
    const steps = result.locator('[data-json-path="steps"]');
    expect(await steps.getAttribute('data-open')).toBe('false');
    await steps.getByRole('button', { name: 'unfold steps' }).click();
    expect(await steps.getAttribute('data-open')).toBe('true');
    for (const path of ['steps.parts.items', 'steps.parts.items.0']) await result.getByRole('button', { name: `unfold ${path}`, exact: true }).click();
    await result.getByRole('button', { name: /600 characters: show all/ }).first().waitFor();
    await screenshot(page, 'dashboard-json');
    await result.getByRole('button', { name: 'copy result' }).click();
    await result.getByRole('button', { name: 'copy result' }).filter({ hasText: 'copied' }).waitFor();
    const copied = await page.evaluate<string>('navigator.clipboard.readText()');
    const task = (await (await fetch(`${stack.orchestrator.baseUrl}/tasks/dash-json`)).json()) as { result: Record<string, unknown> };
    expect(JSON.parse(copied)).toEqual(task.result);
  });

  it('follows the system\'s dark scheme', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(ui('tasks/dash-retry'));
    await page.locator('[data-task-status="COMPLETED"]').waitFor({ timeout: 15_000 });
    expect(await page.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor')).toBe('rgb(17, 24, 32)');
    expect(await page.evaluate<string>("getComputedStyle(document.querySelector('.step-node')).backgroundColor")).toBe('rgb(26, 35, 45)');
    await screenshot(page, 'dashboard-dark');
  });

  it('fits a phone 390 px wide: no page wider than the screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    phone.on('pageerror', (error) => errors.push(error.message));
    try {
      for (const path of ['', 'tasks/dash-retry', 'agents', 'workflows']) {
        await phone.goto(ui(path));
        await phone.locator('main h1').first().waitFor();
        await phone.waitForTimeout(300);
        expect({ path, width: await phone.evaluate<number>('document.documentElement.scrollWidth') }).toEqual({ path, width: 390 });
      }
      await phone.goto(ui());
      await phone.locator('tr[data-task]').first().waitFor();
      await screenshot(phone, 'dashboard-phone');
    } finally {
      await phone.close();
    }
  });

  it('leads / to the dashboard', async () => {
    const res = await fetch(`${stack.orchestrator.baseUrl}/`, { redirect: 'manual' });
    expect([res.status, res.headers.get('location')]).toEqual([302, '/ui/']);
    await page.goto(`${stack.orchestrator.baseUrl}/`);
    expect(new URL(page.url()).pathname).toBe('/ui/');
    await page.locator('main h1', { hasText: 'Tasks' }).waitFor();
  });

  it("shows an agent's in-flight count rise and fall", async () => {
    await page.goto(ui('agents'));
    const inFlight = page.locator('[data-agent="e2e_dash"] [data-role="in-flight"]');
    await inFlight.waitFor();
    expect(await inFlight.getAttribute('data-value')).toBe('0');
    expect(await page.locator('[data-agent="e2e_dash"]').textContent()).toContain('e2e_work');
    for (const run of ['dash-load-1', 'dash-load-2']) {
      dash.hold(run, 'first');
      await submit(run, { parts: ['x'] });
    }
    await waitFor('the page to show 2 in flight', async () => ((await inFlight.getAttribute('data-value')) === '2' ? true : undefined), 30_000, 50);
    await screenshot(page, 'dashboard-agents');
    for (const run of ['dash-load-1', 'dash-load-2']) dash.release(run, 'first');
    await waitFor('the page to show none in flight', async () => ((await inFlight.getAttribute('data-value')) === '0' ? true : undefined), 20_000, 50);
  });

  it('draws every workflow definition', async () => {
    await page.goto(ui('workflows'));
    const card = page.locator('[data-workflow="e2e_dash"][data-version="1"]');
    await card.waitFor();
    await expect.poll(() => card.locator('.react-flow__node').count()).toBe(4);
    // Edges are drawn once their nodes are measured, a frame or more after the nodes.
    await expect.poll(() => card.locator('.react-flow__edge').count()).toBe(4);
    // Every line of a node is inside it: none is cut off at its bottom.
    for (const definition of await card.locator('.step-node').all()) {
      const box = await definition.boundingBox();
      const last = await definition.locator('.step-node-line').last().boundingBox();
      expect(box !== null && last !== null && last.y + last.height <= box.y + box.height).toBe(true);
    }
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
    // The first task's page may still be shown as the URL changes: wait for the new task itself.
    await waitFor('the re-run to complete', async () => ((await stack.get<{ status: string }>(`/tasks/${encodeURIComponent(rerun)}`)).status === 'COMPLETED' ? true : undefined));
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
