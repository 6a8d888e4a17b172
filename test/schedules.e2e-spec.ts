import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { launchBrowser, openPage, screenshot } from './support/browser.js';
import { waitFor } from './support/orchestrator-process.js';
import { useEchoAgent } from './support/echo-agent.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'schedules');
const CLI = join(new URL('..', import.meta.url).pathname, 'apps/cli/bin/orchestrator.js');
const run = promisify(execFile);

/** A tick's run as recorded, with its workflow's times. */
interface Run {
  task_id: string;
  tick: number;
  kind: string;
  outcome: string;
  reason: string | null;
  at: Date;
  status: string | null;
  started_at: Date | null;
  completed_at: Date | null;
}

interface View {
  schedule_id: string;
  paused: boolean;
  source: string;
  file: string | null;
  next_fire_at: string | null;
  next_fire_times: string[];
  fires: number;
  skipped: number;
  created_at: string;
  updated_at: string;
  last_runs?: { task_id: string; outcome: string; status: string | null }[];
}

describe('schedules', () => {
  // No planner: a task_type without a workflow file is refused, not planned.
  const stack = useTestStack({ workflowsDir: FIXTURES, replicas: 2, oneByOne: true, env: { PLANNER_AGENT: '' } });
  const agent = useEchoAgent('e2e_ticker');

  /** A call to replica `replica`'s HTTP API. */
  async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, replica = 0): Promise<{ status: number; body: T }> {
    const res = await fetch(`${stack.orchestrators[replica]?.baseUrl ?? ''}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  async function create(schedule: Record<string, unknown>): Promise<View> {
    const created = await api<View>('POST', '/schedules', { task_type: 'e2e_tick', ...schedule });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  }

  function runsOf(scheduleId: string): Promise<Run[]> {
    return stack.db.query<Run>(
      `SELECT r.task_id, (extract(epoch FROM r.tick_at) * 1000)::float8 AS tick, r.kind, r.outcome, r.reason, r.created_at AS at,
              t.status, t.started_at, t.completed_at
         FROM schedule_runs AS r LEFT JOIN tasks AS t ON t.task_id = r.task_id AND t.parent_id IS NULL
        WHERE r.schedule_id = $1 ORDER BY r.tick_at`,
      [scheduleId],
    );
  }

  const started = (runs: readonly Run[]): Run[] => runs.filter((run) => run.outcome === 'started');

  /** The runs of a schedule once every workflow it started has finished. */
  function settledRuns(scheduleId: string, timeoutMs = 30_000): Promise<Run[]> {
    return waitFor(`the runs of ${scheduleId} to finish`, async () => {
      const runs = await runsOf(scheduleId);
      return runs.every((run) => run.outcome !== 'started' || run.completed_at !== null) && !runs.some((run) => run.outcome === 'buffered') ? runs : undefined;
    }, timeoutMs);
  }

  /** The workflows the agent received, by task_id, of one schedule. */
  function receivedRoots(scheduleId: string): string[] {
    return agent().receipts.filter((receipt) => receipt.rootTaskId.startsWith(`sched:${scheduleId}:`)).map((receipt) => receipt.rootTaskId);
  }

  async function firesMetric(scheduleId: string, kind: string): Promise<number> {
    let sum = 0;
    for (const replica of stack.orchestrators) {
      const text = await (await fetch(`${replica.baseUrl}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('orchestrator_schedule_fires_total{') && l.includes(`schedule="${scheduleId}"`) && l.includes(`kind="${kind}"`));
      sum += line ? Number(line.split(' ').at(-1)) : 0;
    }
    return sum;
  }

  it('fires an every_ms: 1000 schedule for 20 s on two replicas 20 ± 1 times, each tick once, each run received once', async () => {
    const view = await create({ schedule_id: 'every-second', every_ms: 1000, overlap: 'allow_all', payload: { label: 'every-second' } });
    await sleep(20_000);
    const paused = await api<View>('POST', '/schedules/every-second/pause', undefined, 1);
    const runs = started(await settledRuns('every-second'));
    const ticks = runs.map((run) => run.tick);
    expect(ticks.length).toBeGreaterThanOrEqual(19);
    expect(ticks.length).toBeLessThanOrEqual(21);
    // Every tick from the first after its creation, none missing, none twice (a tick due as it was paused may not have been taken).
    const first = ticks[0] ?? 0;
    const last = Math.floor(Date.parse(paused.body.updated_at) / 1000) * 1000;
    expect(first - Date.parse(view.created_at)).toBeGreaterThan(0);
    expect(first - Date.parse(view.created_at)).toBeLessThanOrEqual(1_050);
    expect(ticks).toEqual(ticks.map((_, i) => first + i * 1000));
    expect(ticks.at(-1)).toBeGreaterThanOrEqual(last - 1000);
    expect(runs.map((run) => run.task_id)).toEqual(ticks.map((tick) => `sched:every-second:${tick}`));
    expect(runs.every((run) => run.status === 'COMPLETED')).toBe(true);
    expect(receivedRoots('every-second').sort()).toEqual(runs.map((run) => run.task_id).sort());
    // Counted where they were fired, by whichever replica took each tick.
    expect(await firesMetric('every-second', 'scheduled')).toBe(runs.length);
  });

  it('honours each overlap policy when a run outlasts the ticks (every second, runs of 2.5 s)', async () => {
    const policies = { 'ov-skip': 'skip', 'ov-buffer': 'buffer_one', 'ov-all': 'allow_all', 'ov-cancel': 'cancel_other' };
    for (const [id, overlap] of Object.entries(policies)) await create({ schedule_id: id, every_ms: 1000, overlap, payload: { label: id, delay_ms: 2500 } });
    await sleep(7_500);
    for (const id of Object.keys(policies)) expect((await api('POST', `/schedules/${id}/pause`)).status).toBe(200);
    const skip = await settledRuns('ov-skip');
    const buffer = await settledRuns('ov-buffer');
    const all = await settledRuns('ov-all');
    const cancel = await settledRuns('ov-cancel');
    const noOverlap = (runs: Run[]): void => {
      const ran = started(runs);
      for (let i = 1; i < ran.length; i++) expect(ran[i]?.started_at?.getTime()).toBeGreaterThanOrEqual(ran[i - 1]?.completed_at?.getTime() ?? Infinity);
    };

    // skip: never two at once; the ticks that came meanwhile are skipped, with the reason.
    expect(started(skip).length).toBeGreaterThanOrEqual(2);
    noOverlap(skip);
    expect(skip.filter((run) => run.outcome === 'skipped').length).toBeGreaterThanOrEqual(3);
    expect(skip.find((run) => run.outcome === 'skipped')?.reason).toMatch(/^overlap skip: sched:ov-skip:\d+ still runs$/);

    // buffer_one: never two at once; one tick waited and started when the run before ended; the others were skipped.
    noOverlap(buffer);
    const waited = started(buffer).filter((run) => (run.started_at?.getTime() ?? 0) - run.tick > 1_000);
    expect(waited.length).toBeGreaterThanOrEqual(1);
    for (const run of waited) {
      const before = started(buffer).filter((other) => other.tick < run.tick).at(-1);
      expect((run.started_at?.getTime() ?? 0) - (before?.completed_at?.getTime() ?? 0)).toBeLessThan(5_000);
    }
    expect(buffer.some((run) => run.reason?.includes('a tick waits already'))).toBe(true);

    // allow_all: every tick ran, side by side.
    expect(all.every((run) => run.outcome === 'started' && run.status === 'COMPLETED')).toBe(true);
    expect(all.length).toBeGreaterThanOrEqual(6);
    expect(all.some((run, i) => i > 0 && (run.started_at?.getTime() ?? 0) < (all[i - 1]?.completed_at?.getTime() ?? 0))).toBe(true);

    // cancel_other: each tick cancelled the run before it, whose agent was told; the last one completed.
    const replaced = started(cancel);
    expect(replaced.length).toBeGreaterThanOrEqual(5);
    expect(replaced.slice(0, -1).every((run) => run.status === 'CANCELLED')).toBe(true);
    expect(replaced.at(-1)?.status).toBe('COMPLETED');
    const cancelledSubtasks = agent().receipts.filter((r) => replaced.slice(0, -1).some((run) => run.task_id === r.rootTaskId)).map((r) => r.subtaskId);
    await waitFor('the agent to be told to stop the cancelled runs', () => (cancelledSubtasks.every((id) => agent().cancels.includes(id)) ? true : undefined));
  });

  it('backfills a range: each tick once, across replicas asked at once, and asking again does nothing', async () => {
    await create({ schedule_id: 'backfilled', every_ms: 1000, paused: true, overlap: 'skip', payload: { label: 'backfilled' } });
    const to = Math.floor(Date.now() / 1000) * 1000 - 2_000;
    const from = to - 9_000;
    const both = await Promise.all([0, 1].map((replica) => api<{ ticks: number; started: number; already: number; task_ids: string[] }>('POST', '/schedules/backfilled/backfill', { from: new Date(from).toISOString(), to }, replica)));
    expect(both.map((one) => one.status)).toEqual([202, 202]);
    expect(both.map((one) => one.body.ticks)).toEqual([10, 10]);
    expect(both.map((one) => one.body.started).sort()).toEqual([0, 10]);
    expect(both[0]?.body.task_ids).toEqual(Array.from({ length: 10 }, (_, i) => `sched:backfilled:${from + i * 1000}`));
    // Overlapping the first: only the two ticks before it run.
    const wider = await api<{ ticks: number; started: number; already: number }>('POST', '/schedules/backfilled/backfill', { from: from - 2_000, to: to - 5_000 });
    expect(wider.body).toMatchObject({ ticks: 7, started: 2, already: 5 });
    const runs = await settledRuns('backfilled');
    expect(runs.map((run) => run.tick)).toEqual(Array.from({ length: 12 }, (_, i) => from - 2_000 + i * 1000));
    expect(runs.every((run) => run.kind === 'backfill' && run.status === 'COMPLETED')).toBe(true);
    expect(receivedRoots('backfilled').sort()).toEqual(runs.map((run) => run.task_id).sort());
    expect(await firesMetric('backfilled', 'backfill')).toBe(12);
  });

  it('runs a cron expression with seconds in a time zone, and shows the next ticks in it', async () => {
    const view = await create({ schedule_id: 'cron-even', cron: '*/2 * * * * *', timezone: 'America/New_York', overlap: 'allow_all', payload: { label: 'cron' } });
    const next = view.next_fire_times.map((iso) => Date.parse(iso));
    expect(next).toHaveLength(5);
    expect(next.every((ms, i) => ms % 2_000 === 0 && (i === 0 || ms - (next[i - 1] ?? 0) === 2_000))).toBe(true);
    await waitFor('three runs of cron-even', async () => (started(await runsOf('cron-even')).length >= 3 ? true : undefined));
    await api('POST', '/schedules/cron-even/pause');
    const runs = started(await settledRuns('cron-even'));
    expect(runs.every((run) => run.tick % 2_000 === 0 && run.status === 'COMPLETED')).toBe(true);

    const daily = await create({ schedule_id: 'berlin-morning', cron: '0 30 8 * * *', timezone: 'Europe/Berlin', paused: true });
    expect(daily.next_fire_times).toEqual([]);
    const resumed = await api<View>('POST', '/schedules/berlin-morning/resume');
    const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    expect(resumed.body.next_fire_times.map((iso) => local.format(new Date(iso)))).toEqual(Array(5).fill('08:30:00'));
    await api('POST', '/schedules/berlin-morning/pause');
  });

  it('fires nothing while paused, runs a trigger at once, and resumes from the next tick without catching up', async () => {
    await create({ schedule_id: 'pausable', every_ms: 1000, overlap: 'allow_all', payload: { label: 'pausable' } });
    await waitFor('two runs of pausable', async () => (started(await runsOf('pausable')).length >= 2 ? true : undefined));
    const paused = await api<View>('POST', '/schedules/pausable/pause', undefined, 1);
    expect(paused.body).toMatchObject({ paused: true, next_fire_at: null, next_fire_times: [] });
    const pausedAt = Date.parse(paused.body.updated_at);
    await sleep(2_500);
    const trigger = await api<{ task_id: string; outcome: string }>('POST', '/schedules/pausable/trigger');
    expect(trigger.status).toBe(202);
    expect(trigger.body).toMatchObject({ outcome: 'started', task_id: expect.stringMatching(/^sched:pausable:trigger:\d+$/) as string });
    await sleep(500);
    const resumed = await api<View>('POST', '/schedules/pausable/resume');
    const resumedAt = Date.parse(resumed.body.updated_at);
    expect(Date.parse(resumed.body.next_fire_at ?? '')).toBeGreaterThan(resumedAt);
    await waitFor('a run after the resume', async () => ((await runsOf('pausable')).some((run) => run.kind === 'scheduled' && run.tick > resumedAt) ? true : undefined));
    await api('POST', '/schedules/pausable/pause');
    const runs = await settledRuns('pausable');
    // Nothing scheduled between the pause and the resume; the trigger ran in between.
    expect(runs.filter((run) => run.kind === 'scheduled' && run.tick > pausedAt + 1_000 && run.tick <= resumedAt)).toEqual([]);
    expect(runs.find((run) => run.task_id === trigger.body.task_id)).toMatchObject({ kind: 'trigger', status: 'COMPLETED' });
    expect(receivedRoots('pausable')).toContain(trigger.body.task_id);
  });

  it('loads a schedule file at start: shown as the file\'s, changed only there, paused and resumed like any', async () => {
    const view = await api<View>('GET', '/schedules/e2e_file_tick', undefined, 1);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ source: 'file', paused: true, cron: '*/2 * * * * *', timezone: 'Europe/Berlin', payload: { label: 'from-file' } });
    expect(view.body.file).toMatch(/schedules\/e2e_file_tick\.yaml$/);
    expect((await api('PATCH', '/schedules/e2e_file_tick', { every_ms: 5000 })).body).toMatchObject({ code: 'SCHEDULE_FROM_FILE' });
    expect((await api('DELETE', '/schedules/e2e_file_tick')).status).toBe(409);
    await api('POST', '/schedules/e2e_file_tick/resume');
    await waitFor('two runs of the file schedule', async () => (started(await runsOf('e2e_file_tick')).length >= 2 ? true : undefined));
    await api('POST', '/schedules/e2e_file_tick/pause');
    expect(started(await settledRuns('e2e_file_tick')).every((run) => run.tick % 2_000 === 0 && run.status === 'COMPLETED')).toBe(true);
  });

  it('refuses bad schedules with a 400 naming the field, and answers 404 and 409 where they belong', async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ schedule_id: 'Bad Id', every_ms: 1000 }, 'schedule_id: must match'],
      [{ schedule_id: 'b', task_type: 'no_such_workflow', every_ms: 1000 }, 'task_type: no workflow is defined for "no_such_workflow"'],
      [{ schedule_id: 'b' }, 'cron: one of cron or every_ms is required'],
      [{ schedule_id: 'b', cron: '* * * * *', every_ms: 1000 }, 'cron: give cron or every_ms, not both'],
      [{ schedule_id: 'b', cron: '61 * * * *' }, 'cron: "61 * * * *" is not a cron expression'],
      [{ schedule_id: 'b', cron: '* * *' }, 'cron: "* * *" has 3 fields'],
      [{ schedule_id: 'b', cron: '* * * * *', timezone: 'Mars/Olympus' }, 'timezone: "Mars/Olympus" is not an IANA time zone name'],
      [{ schedule_id: 'b', every_ms: 1000, timezone: 'UTC' }, 'timezone: applies to cron only'],
      [{ schedule_id: 'b', every_ms: 999 }, 'every_ms: must be a whole number of milliseconds from 1000'],
      [{ schedule_id: 'b', every_ms: 1000, overlap: 'queue' }, 'overlap: must be one of skip, buffer_one, allow_all, cancel_other'],
      [{ schedule_id: 'b', every_ms: 1000, catchup_window_ms: 10 }, 'catchup_window_ms: must be a whole number of milliseconds from 1000'],
      [{ schedule_id: 'b', every_ms: 1000, paused: 'yes' }, 'paused: must be true or false'],
      [{ schedule_id: 'b', every_ms: 1000, priority: 'urgent' }, 'priority: must be one of LOW, NORMAL, HIGH, CRITICAL'],
      [{ schedule_id: 'b', every_ms: 1000, payload: { delay_ms: 'soon' } }, 'payload.delay_ms: must be an integer'],
      [{ schedule_id: 'b', every_ms: 1000, payload: [1] }, 'payload: must be a JSON object'],
      [{ schedule_id: 'b', every_ms: 1000, every: 5 }, 'every: is not a field of a schedule'],
    ];
    for (const [body, message] of bad) {
      const answer = await api<{ code: string; message: string }>('POST', '/schedules', { task_type: 'e2e_tick', ...body });
      expect([answer.status, answer.body.code], JSON.stringify(body)).toEqual([400, 'INVALID_SCHEDULE']);
      expect(answer.body.message).toContain(message);
    }
    expect((await api('GET', '/schedules/b')).status).toBe(404);
    await create({ schedule_id: 'taken', every_ms: 60_000, paused: true });
    expect((await api('POST', '/schedules', { schedule_id: 'taken', task_type: 'e2e_tick', every_ms: 1000 })).body).toMatchObject({ code: 'SCHEDULE_EXISTS' });
    expect((await api('PATCH', '/schedules/taken', { every_ms: 5 })).body).toMatchObject({ code: 'INVALID_SCHEDULE', message: expect.stringContaining('every_ms:') as string });
    expect((await api('PATCH', '/schedules/taken', { schedule_id: 'other' })).body).toMatchObject({ message: expect.stringContaining('schedule_id: cannot change') as string });
    expect((await api('POST', '/schedules/taken/backfill', { from: 'yesterday', to: Date.now() })).body).toMatchObject({ message: expect.stringContaining('from: is required') as string });
    expect((await api('POST', '/schedules/taken/backfill', { from: Date.now() - 1000, to: Date.now() + 60_000 })).body).toMatchObject({ message: expect.stringContaining('to: must not be in the future') as string });
    expect((await api('POST', '/schedules/nope/trigger')).status).toBe(404);
    // Changed over the API: a new timing moves its next tick; deleted, it is gone.
    const patched = await api<View & { cron: string | null; every_ms: number | null }>('PATCH', '/schedules/taken', { cron: '0 0 * * * *' });
    expect(patched.body).toMatchObject({ cron: '0 0 * * * *', every_ms: null });
    expect((await api('DELETE', '/schedules/taken')).body).toEqual({ schedule_id: 'taken', deleted: true });
    expect((await api('GET', '/schedules/taken')).status).toBe(404);
  });

  it('shows the schedules on the dashboard, with their next tick and last run, and pauses, resumes and triggers them', async () => {
    await create({ schedule_id: 'on-screen', cron: '0 0 8 * * *', timezone: 'Europe/Berlin', payload: { label: 'screen' } });
    const browser = await launchBrowser();
    const errors: string[] = [];
    try {
      const page = await openPage(browser, errors);
      await page.goto(`${stack.orchestrator.baseUrl}/ui/schedules`);
      const row = page.locator('tr[data-schedule="on-screen"]');
      await row.waitFor();
      expect(await row.locator('code').textContent()).toBe('0 0 8 * * * (Europe/Berlin)');
      expect(await row.locator('[data-role="last-run"]').textContent()).toBe('none yet');
      await row.getByRole('button', { name: 'Trigger' }).click();
      await page.getByRole('status').filter({ hasText: /on-screen: sched:on-screen:trigger:\d+ started/ }).waitFor();
      await row.locator('[data-role="last-run"] [data-status="COMPLETED"]').waitFor({ timeout: 20_000 });
      await row.getByRole('button', { name: 'Pause' }).click();
      await page.locator('tr[data-schedule="on-screen"][data-paused="true"]').waitFor();
      expect((await api<View>('GET', '/schedules/on-screen')).body.paused).toBe(true);
      expect(await row.locator('[data-role="next"]').textContent()).toBe('paused');
      await screenshot(page, 'schedules');
      await row.getByRole('button', { name: 'Resume' }).click();
      await page.locator('tr[data-schedule="on-screen"][data-paused="false"]').waitFor();
      expect((await api<View>('GET', '/schedules/on-screen')).body.paused).toBe(false);
      await api('POST', '/schedules/on-screen/pause');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('is managed from the command line: create, list, get, trigger, backfill, pause, delete', async () => {
    const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
      try {
        const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ORCHESTRATOR_URL: stack.orchestrator.baseUrl, NO_COLOR: '1' } });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const failed = error as { code: number; stdout: string; stderr: string };
        return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
      }
    };
    const created = await cli('schedules', 'create', 'by-cli', 'e2e_tick', '--every-ms', '60000', '--overlap', 'allow_all', '--payload', '{"label":"cli"}', '--paused', '--json');
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ schedule_id: 'by-cli', every_ms: 60_000, paused: true, payload: { label: 'cli' } });
    const listed = await cli('schedules', 'list');
    expect(listed.stdout).toMatch(/by-cli\s+e2e_tick\s+every 1m 00s\s+allow_all\s+paused/);
    const triggered = await cli('schedules', 'trigger', 'by-cli');
    expect(triggered.stdout).toMatch(/^sched:by-cli:trigger:\d+ started$/m);
    const backfilled = await cli('schedules', 'backfill', 'by-cli', '--from', '-180s', '--to', '-0s', '--json');
    expect(JSON.parse(backfilled.stdout)).toMatchObject({ ticks: 3, started: 3, already: 0 });
    await settledRuns('by-cli');
    const detail = await cli('schedules', 'get', 'by-cli');
    expect(detail.stdout).toContain('by-cli: e2e_tick, every 1m 00s, overlap allow_all');
    expect(detail.stdout.match(/ backfill +COMPLETED +sched:by-cli:\d+/g)).toHaveLength(3);
    expect(detail.stdout).toMatch(/ trigger +COMPLETED +sched:by-cli:trigger:\d+/);
    const bad = await cli('schedules', 'update', 'by-cli', '--cron', '61 * * * *');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('cron: "61 * * * *" is not a cron expression');
    expect((await cli('schedules', 'delete', 'by-cli')).stdout).toBe('deleted by-cli\n');
    expect((await cli('schedules', 'get', 'by-cli')).code).toBe(1);
  });

  it('catches up the ticks missed while every replica was down, within the catch-up window only', async () => {
    await create({ schedule_id: 'catch-up', every_ms: 2_000, catchup_window_ms: 8_000, overlap: 'allow_all', payload: { label: 'catch-up' } });
    await waitFor('a run of catch-up', async () => (started(await runsOf('catch-up')).length >= 1 ? true : undefined));
    await Promise.all(stack.orchestrators.map((replica) => replica.kill()));
    const downAt = Date.now();
    await sleep(20_000);
    // One at a time: two starting together on a busy machine can take longer than a start may.
    await stack.restart({ replica: 0 });
    const runs = await waitFor('the catch-up pass', async () => {
      const all = await runsOf('catch-up');
      return all.some((run) => run.at.getTime() > downAt) ? all : undefined;
    });
    await stack.restart({ replica: 1 });
    const before = runs.filter((run) => run.at.getTime() < downAt);
    const lastBefore = Math.max(...before.map((run) => run.tick));
    // The pass after the restart: its ticks, and the ticks of the gap it did not run.
    const pass = runs.filter((run) => run.at.getTime() > downAt);
    const passAt = Math.min(...pass.map((run) => run.at.getTime()));
    const caughtUp = pass.filter((run) => run.at.getTime() === passAt);
    const windowStart = passAt - 8_000;
    const gap = Array.from({ length: Math.floor((passAt - lastBefore) / 2_000) }, (_, i) => lastBefore + (i + 1) * 2_000);
    const inWindow = gap.filter((tick) => tick >= windowStart + 100);
    const tooOld = gap.filter((tick) => tick < windowStart - 100);
    expect(inWindow.length).toBeGreaterThanOrEqual(3);
    expect(tooOld.length).toBeGreaterThanOrEqual(3);
    const ran = new Set(runs.map((run) => run.tick));
    expect(inWindow.filter((tick) => !ran.has(tick))).toEqual([]);
    expect(tooOld.filter((tick) => ran.has(tick))).toEqual([]);
    expect(caughtUp.every((run) => run.outcome === 'started')).toBe(true);
    await api('POST', '/schedules/catch-up/pause');
    const view = await api<View>('GET', '/schedules/catch-up');
    expect(view.body.skipped).toBeGreaterThanOrEqual(tooOld.length);
    // The runs started after the restart ran (one in flight at the kill may have lost its answer: it failed at its deadline).
    const settled = await settledRuns('catch-up');
    expect(started(settled).filter((run) => run.at.getTime() > downAt).every((run) => run.status === 'COMPLETED')).toBe(true);
    expect(receivedRoots('catch-up')).toEqual(expect.arrayContaining(caughtUp.map((run) => run.task_id)));
  });
});
