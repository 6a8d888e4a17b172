import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HistoryAgent } from './support/history-agent.js';
import { waitFor } from './support/orchestrator-process.js';
import { useTestStack } from './support/test-stack.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'apps/cli/bin/orchestrator.js');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'workflows');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Each line of standard output with the milliseconds since the start when it came. */
  timeline: { ms: number; line: string }[];
}

describe('the orchestrator command line', () => {
  const hist = new HistoryAgent();
  const stack = useTestStack({ workflowsDir: FIXTURES, agents: [hist.agent], waitForAgents: 1 });

  /** Runs the built command (`npx orchestrator …` runs the same file) against the stack's orchestrator. */
  function cli(...args: string[]): Promise<Run> {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ORCHESTRATOR_URL: stack.orchestrator.baseUrl, NO_COLOR: '' } });
    const started = Date.now();
    const run: Run = { status: null, stdout: '', stderr: '', timeline: [] };
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      run.stdout += chunk.toString();
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) run.timeline.push({ ms: Date.now() - started, line });
    });
    child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (status) => resolve({ ...run, status }));
    });
  }

  const json = <T>(run: Run): T => JSON.parse(run.stdout) as T;
  /** The index of the first line of output that has every one of `parts`. */
  const lineIndex = (run: Run, ...parts: string[]): number => run.timeline.findIndex(({ line }) => parts.every((part) => line.includes(part)));

  /** Until the final response is marked sent: a retry before that is refused ("retry in a moment"). */
  async function answerSent(taskId: string, count = 1): Promise<void> {
    await waitFor(`${taskId}'s final response to be sent`, async () => {
      const { items } = json<{ items: { kind: string }[] }>(await cli('events', taskId, '--json'));
      return items.filter((e) => e.kind === 'answer_sent').length >= count ? true : undefined;
    });
  }

  it('submit --watch prints the steps as they progress and exits 0 when the task completes', async () => {
    const run = await cli('submit', 'e2e_history', '--task-id', 'cli-ok', '--payload', '{"items":[1,2,3],"fail_first":true,"delay_ms":700}', '--watch');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).not.toContain('\u001b[');
    expect(run.timeline[0]?.line).toBe('submitted cli-ok');
    const order = [
      lineIndex(run, 'cli-ok', 'planned', 'steps: first, each, never, last'),
      lineIndex(run, 'first', 'dispatched', 'e2e_hist, attempt 1'),
      lineIndex(run, 'first', 'retried', 'attempt 2', 'error: attempt 1 fails'),
      lineIndex(run, 'first', 'answered', 'attempt 2, COMPLETED'),
      lineIndex(run, 'each', 'expanded', '3 items'),
      lineIndex(run, 'each[2]', 'answered', 'COMPLETED'),
      lineIndex(run, 'each ', 'step_completed'),
      lineIndex(run, 'last', 'answered', 'COMPLETED'),
      lineIndex(run, 'cli-ok', 'completed'),
      lineIndex(run, 'cli-ok COMPLETED in'),
    ];
    expect(order.every((index) => index >= 0), run.stdout).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(lineIndex(run, 'never', 'skipped')).toBeGreaterThan(0);
    expect(run.stdout).toContain('output: {"count":3}');
    // Printed as they happened, not at the end: the items took 700 ms each, two at a time.
    const first = run.timeline[lineIndex(run, 'first', 'answered', 'COMPLETED')]?.ms ?? Infinity;
    const end = run.timeline[lineIndex(run, 'cli-ok', 'completed')]?.ms ?? 0;
    expect(end - first).toBeGreaterThan(1000);
  });

  it('get prints every step as a tree, items under their step; list --json parses', async () => {
    const run = await cli('get', 'cli-ok');
    expect(run.status).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    // Four steps in the plan (a for_each counts once), three ran and one was skipped by its when.
    expect(lines[0]).toMatch(/^cli-ok {2}e2e_history v1 {2}COMPLETED {2}3\/4 steps, 1 skipped {2}\d/);
    // The tree's own indent ("│  ") is not a column gap.
    expect(lines.slice(1).map((line) => line.replaceAll('│  ', '│ ').split(/\s{2,}/).slice(0, 4))).toEqual([
      ['├─ first', 'COMPLETED', 'e2e_hist', 'attempt 2/2'],
      ['├─ each', 'COMPLETED', 'e2e_hist', 'attempt 0/2'],
      ['│ ├─ [0]', 'COMPLETED', 'e2e_hist', 'attempt 1/2'],
      ['│ ├─ [1]', 'COMPLETED', 'e2e_hist', 'attempt 1/2'],
      ['│ └─ [2]', 'COMPLETED', 'e2e_hist', 'attempt 1/2'],
      ['├─ never', 'COMPLETED', 'e2e_hist', 'attempt 0/2'],
      ['└─ last', 'COMPLETED', 'e2e_hist', 'attempt 1/2'],
    ]);

    const list = await cli('list', '--type', 'e2e_history', '--json', '--count');
    expect(list.status).toBe(0);
    const page = json<{ items: { task_id: string; status: string }[]; total: number; next_cursor: string | null }>(list);
    expect(page.items).toContainEqual(expect.objectContaining({ task_id: 'cli-ok', status: 'COMPLETED' }));
    expect(page.total).toBe(page.items.length);
    const detail = json<{ task_id: string; steps: unknown[] }>(await cli('get', 'cli-ok', '--json'));
    expect(detail).toMatchObject({ task_id: 'cli-ok' });
    expect(detail.steps).toHaveLength(7);
  });

  it('submit --watch exits 1 when the task fails; retry --watch completes it from its unfinished steps', async () => {
    hist.failing.add('cli-run');
    const failed = await cli('submit', 'e2e_resume', '--task-id', 'cli-fail', '--payload', '{"run":"cli-run","items":[1,2]}', '--watch');
    expect(failed.status).toBe(1);
    expect(lineIndex(failed, 'b', 'step_failed', 'error: b is down')).toBeGreaterThan(0);
    expect(failed.stdout).toContain('cli-fail FAILED in');
    expect(failed.stdout).toMatch(/error: .*b is down/);
    await answerSent('cli-fail');

    hist.failing.delete('cli-run');
    const retried = await cli('retry', 'cli-fail', '--watch');
    expect(retried.stderr).toBe('');
    expect(retried.status).toBe(0);
    expect(retried.stdout).toContain('cli-fail RUNNING again');
    expect(lineIndex(retried, 'cli-fail', 'resumed', 'was FAILED'), retried.stdout).toBeGreaterThan(0);
    expect(retried.stdout).toContain('cli-fail COMPLETED in');
    expect(retried.stdout).toContain('output: {"c":"b"}');
    // Completed steps were not sent again.
    expect(hist.of('cli-run', 'a')).toHaveLength(1);
    expect(hist.of('cli-run', 'c')).toHaveLength(1);

    const events = await cli('events', 'cli-fail');
    expect(events.status).toBe(0);
    const kinds = events.stdout.trimEnd().split('\n').map((line) => line.split(/\s{2,}/)[1]);
    expect(kinds.slice(0, 2)).toEqual(['submitted', 'planned']);
    expect(kinds).toContain('step_failed');
    expect(kinds.indexOf('resumed')).toBeGreaterThan(kinds.indexOf('failed'));
    expect(kinds.filter((kind) => kind === 'completed')).toHaveLength(1);
    const history = json<{ items: { kind: string }[] }>(await cli('events', 'cli-fail', '--json'));
    expect(history.items.map((e) => e.kind)).toEqual(kinds);

    const again = await cli('retry', 'cli-fail');
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('error: task cli-fail is COMPLETED: only a FAILED or CANCELLED task can be retried');
    expect(again.stderr).toContain('code: TASK_NOT_RETRYABLE, HTTP 409');

    const rerun = await cli('rerun', 'cli-fail', '--json');
    expect(rerun.status).toBe(0);
    const reply = json<{ task_id: string; rerun_of: string }>(rerun);
    expect(reply.rerun_of).toBe('cli-fail');
    expect((await cli('watch', reply.task_id)).status).toBe(0);
  });

  it('cancel stops a running task, and watching it exits 1', async () => {
    const submitted = await cli('submit', 'e2e_history', '--task-id', 'cli-cancel', '--payload', '{"items":[1,2,3,4],"delay_ms":3000}', '--json');
    expect(json(submitted)).toEqual({ task_id: 'cli-cancel', status: 'RUNNING', existing: false });
    const watching = cli('watch', 'cli-cancel');
    await waitFor('an item to start', async () => ((await stack.get<{ steps: { step: string }[] }>('/tasks/cli-cancel')).steps.some((s) => s.step === 'each[0]') ? true : undefined));
    const cancelled = await cli('cancel', 'cli-cancel');
    expect(cancelled, cancelled.stderr).toMatchObject({ status: 0, stdout: 'cli-cancel CANCELLED\n' });
    const watched = await watching;
    expect(watched.status).toBe(1);
    expect(lineIndex(watched, 'cli-cancel', 'cancelled')).toBeGreaterThan(0);
    expect(watched.stdout).toContain('cli-cancel CANCELLED in');
    const finished = await cli('cancel', 'cli-cancel');
    expect(finished.status).toBe(1);
    expect(finished.stderr).toContain('error: task cli-cancel has already finished as CANCELLED');
  });

  it('agents, workflows and workflows graph show what the orchestrator runs with', async () => {
    const agents = await cli('agents');
    expect(agents.status).toBe(0);
    expect(agents.stdout).toMatch(/^NAME {2}.*CAPABILITIES\ne2e_hist {2}1 .* e2e_hist_work\n$/);
    expect(json<{ items: { name: string }[] }>(await cli('agents', '--json')).items.map((a) => a.name)).toEqual(['e2e_hist']);

    const workflows = json<{ items: { task_type: string }[] }>(await cli('workflows', '--json'));
    expect(workflows.items.map((w) => w.task_type)).toEqual(expect.arrayContaining(['e2e_history', 'e2e_resume']));

    const graph = await cli('workflows', 'graph', 'e2e_resume');
    expect(graph.status).toBe(0);
    expect(graph.stdout.trimEnd().split('\n').map((line) => line.trimEnd().replace(/ {2,}/g, '  '))).toEqual([
      'e2e_resume v1: 4 steps in 3 stages',
      'Three steps in a row and a for_each, for retry and rerun; the agent fails "b" while the test says so',
      'stage 1',
      '  a  e2e_hist  e2e_hist_work',
      'stage 2 (2 in parallel)',
      '  each  e2e_hist  e2e_hist_work  <- a',
      '  b  e2e_hist  e2e_hist_work  <- a',
      'stage 3',
      '  c  e2e_hist  e2e_hist_work  <- b, each',
      'ends with: c',
    ]);
    const edges = json<{ edges: string[][] }>(await cli('workflows', 'graph', 'e2e_resume', '--json')).edges;
    expect(edges).toEqual([['a', 'each'], ['a', 'b'], ['b', 'c'], ['each', 'c']]);
    const unknown = await cli('workflows', 'graph', 'no_such');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('task_type: no workflow "no_such" is loaded');
  });

  it("prints what an agent wrote with its control characters escaped: an error cannot drive the terminal", async () => {
    const item = 'x\u001b]0;owned\u0007\u001b[2J\r\u009b31m';
    hist.failingItems.add(`cli-escape/${item}`);
    const watched = await cli('submit', 'e2e_resume', '--task-id', 'cli-escape', '--payload', JSON.stringify({ run: 'cli-escape', items: [item] }), '--watch');
    expect(watched.status).toBe(1);
    const shown = await cli('get', 'cli-escape');
    const events = await cli('events', 'cli-escape');
    for (const run of [watched, shown, events]) {
      // eslint-disable-next-line no-control-regex -- no control character may be printed
      expect(run.stdout + run.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    }
    const escaped = 'item x\\x1b]0;owned\\x07\\x1b[2J\\x0d\\x9b31m is bad';
    expect(watched.stdout).toContain(escaped);
    expect(events.stdout).toContain(escaped);
  });

  it("prints a 400's message with the field it names and exits 2; an unknown task exits 1", async () => {
    const refused = await cli('submit', 'e2e_resume', '--payload', '{}');
    expect(refused.status).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^error: payload\.run: is required\n {2}field: payload\.run, code: [A-Z_]+, HTTP 400\n$/);
    const unknownType = await cli('submit', 'no_such_type', '--json');
    expect(unknownType.status).toBe(2);
    expect(unknownType.stderr).toContain('field: task_type');
    const missing = await cli('watch', 'no-such-task');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('error: no task with task_id "no-such-task"');
  });
});
