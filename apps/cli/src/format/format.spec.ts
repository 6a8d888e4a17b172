import type { HistoryEvent, SubTaskView, TaskDetailView, WorkflowSummaryView } from '@orchestrator/contracts';
import { HistoryKind, TaskStatus } from '@orchestrator/contracts';
import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { renderApprovals } from './approvals.js';
import { between, formatDuration } from './duration.js';
import { eventDetail } from './history-line.js';
import { alignColumns } from './table.js';
import { renderTaskTree, stepNodes } from './task-tree.js';
import { renderWorkflowGraph, stages, workflowGraphJson } from './workflow-graph.js';

const plain = pc.createColors(false);
const colored = pc.createColors(true);

describe('formatDuration', () => {
  it('says milliseconds, seconds, minutes and hours as a person reads them', () => {
    expect(formatDuration(0)).toBe('0ms');
    expect(formatDuration(340.4)).toBe('340ms');
    expect(formatDuration(1000)).toBe('1.00s');
    expect(formatDuration(2349)).toBe('2.34s');
    expect(formatDuration(12_345)).toBe('12.3s');
    expect(formatDuration(65_000)).toBe('1m 05s');
    expect(formatDuration(3_725_000)).toBe('1h 02m');
    expect(formatDuration(-1)).toBe('-');
    expect(formatDuration(Number.NaN)).toBe('-');
  });

  it('measures between two instants, up to now for one still open', () => {
    expect(between('2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.500Z')).toBe(1500);
    expect(between('2026-01-01T00:00:00.000Z', null, Date.parse('2026-01-01T00:00:02.000Z'))).toBe(2000);
    expect(between(null, null)).toBeNull();
  });
});

describe('alignColumns', () => {
  it('pads every column but the last to its widest cell, counting no colour codes', () => {
    const lines = alignColumns([
      ['a', { text: 'COMPLETED', style: colored.green }, 'x'],
      ['long-name', { text: 'FAILED', style: colored.red }, 'y'],
    ]);
    const strip = (line: string): string => line.split('\u001b[').map((part, i) => (i === 0 ? part : part.replace(/^\d+m/, ''))).join('');
    expect(lines.map(strip)).toEqual(['a          COMPLETED  x', 'long-name  FAILED     y']);
    expect(lines[1]).toContain(colored.red('FAILED   '));
  });
});

const step = (key: string, fields: Partial<SubTaskView> = {}): SubTaskView => ({
  step: key,
  task_type: 'work',
  agent: 'worker',
  status: TaskStatus.Completed,
  depends_on: [],
  attempts: 1,
  max_attempts: 3,
  input: {},
  started_at: '2026-01-01T00:00:00.000Z',
  completed_at: '2026-01-01T00:00:00.250Z',
  next_attempt_at: null,
  deadline_at: null,
  result: {},
  error: null,
  progress: null,
  usage: null,
  ...fields,
});

function task(steps: SubTaskView[], fields: Partial<TaskDetailView> = {}): TaskDetailView {
  return {
    task_id: 't-1',
    task_type: 'wf',
    status: TaskStatus.Failed,
    priority: 'NORMAL',
    requester_id: null,
    progress: { done: 3, total: steps.length },
    created_at: '2026-01-01T00:00:00.000Z',
    started_at: '2026-01-01T00:00:00.000Z',
    completed_at: '2026-01-01T00:00:02.000Z',
    error: 'step "last" failed',
    not_before: null,
    payload: {},
    result: null,
    workflow: { task_type: 'wf', version: 2 },
    plan: null,
    plan_history: [],
    steps,
    usage: null,
    budget: null,
    ...fields,
  };
}

describe('renderTaskTree', () => {
  it('puts for_each items under their step, retired rows apart, in the given order', () => {
    const nodes = stepNodes([step('first'), step('each'), step('each[0]'), step('each[1]'), step('last'), step('each@1'), step('each[0]@1')]);
    expect(nodes.map((n) => [n.step.step, n.items.map((i) => i.step)])).toEqual([
      ['first', []],
      ['each', ['each[0]', 'each[1]']],
      ['last', []],
      ['each@1', ['each[0]@1']],
    ]);
  });

  it('prints every step with status, agent, attempts and duration, items under their step, errors under theirs', () => {
    const lines = renderTaskTree(
      task([
        step('first', { attempts: 2 }),
        step('each', { agent: null, completed_at: '2026-01-01T00:00:01.000Z' }),
        step('each[0]'),
        step('each[1]', { status: TaskStatus.Failed, error: 'item 1 is bad', attempts: 3 }),
        step('last', { status: TaskStatus.Running, completed_at: null, progress: { fraction: 0.4, message: 'halfway', at: '2026-01-01T00:00:00.100Z', attempt: 1 } }),
      ]),
      plain,
      Date.parse('2026-01-01T00:00:01.250Z'),
    );
    expect(lines).toEqual([
      't-1  wf v2  FAILED  3/5 steps  2.00s',
      'error: step "last" failed',
      '├─ first   COMPLETED  worker  attempt 2/3  250ms',
      '├─ each    COMPLETED  -       attempt 1/3  1.00s',
      '│  ├─ [0]  COMPLETED  worker  attempt 1/3  250ms',
      '│  └─ [1]  FAILED     worker  attempt 3/3  250ms',
      '│        error: item 1 is bad',
      '└─ last    RUNNING    worker  attempt 1/3  1.25s…  40% halfway',
    ]);
  });

  it('says when a task has no steps, and colours statuses only when asked', () => {
    expect(renderTaskTree(task([], { error: null }), plain).at(-1)).toBe('(no steps)');
    expect(renderTaskTree(task([step('a')]), colored).join('\n')).toContain(colored.green('COMPLETED'));
    expect(renderTaskTree(task([step('a')]), plain).join('\n')).not.toContain('\x1b[');
  });
});

const workflow = (steps: [string, string[]][], fields: Partial<WorkflowSummaryView> = {}): WorkflowSummaryView => ({
  task_type: 'fan',
  version: 3,
  description: null,
  plan: 'fixed',
  payload: {},
  steps: steps.map(([id, depends_on]) => ({ id, agent: 'worker', capability: null, task_type: 'work', depends_on })),
  ...fields,
});

describe('workflow graph', () => {
  it('puts each step one stage after its latest prerequisite', () => {
    const fan = workflow([
      ['outline', []],
      ['a', ['outline']],
      ['b', ['outline']],
      ['merge', ['a', 'b', 'outline']],
      ['extra', []],
    ]);
    expect(stages(fan.steps).map((stage) => stage.map((s) => s.id))).toEqual([['outline', 'extra'], ['a', 'b'], ['merge']]);
    expect(workflowGraphJson(fan)).toMatchObject({
      stages: [['outline', 'extra'], ['a', 'b'], ['merge']],
      edges: [['outline', 'a'], ['outline', 'b'], ['a', 'merge'], ['b', 'merge'], ['outline', 'merge']],
    });
  });

  it('draws the stages, who runs each step and what it waits for', () => {
    const fan = workflow([
      ['outline', []],
      ['a', ['outline']],
      ['b', ['outline']],
      ['merge', ['a', 'b']],
    ]);
    fan.steps[2] = { id: 'b', agent: null, capability: 'summarize', task_type: 'work', depends_on: ['outline'] };
    expect(renderWorkflowGraph(fan, plain)).toEqual([
      'fan v3: 4 steps in 3 stages',
      'stage 1',
      '  outline  worker                        work',
      'stage 2 (2 in parallel)',
      '  a        worker                        work  <- outline',
      '  b        any agent offering summarize  work  <- outline',
      'stage 3',
      '  merge    worker                        work  <- a, b',
      'ends with: merge',
    ]);
  });

  it('says a dynamic workflow has no fixed graph, and refuses a cycle', () => {
    expect(renderWorkflowGraph(workflow([], { plan: 'dynamic' }), plain)[0]).toContain('planned at run time');
    expect(() => stages(workflow([['a', ['b']], ['b', ['a']]]).steps)).toThrow('cycle');
  });
});

describe('waits in the command line', () => {
  it('lists the steps waiting for a signal with how long they waited and until when', () => {
    const lines = renderApprovals(
      {
        items: [
          { task_id: 'post-9', task_type: 'create_blog_post_approved', step: 'approve', signal: 'approval', input: { title: 'Graphs' }, payload: {}, waiting_since: '2026-01-01T00:00:00.000Z', deadline_at: '2026-01-02T00:00:00.000Z', on_timeout: 'fail' },
          { task_id: 'p-2', task_type: 'x', step: 'go', signal: 'go', input: {}, payload: {}, waiting_since: '2026-01-01T00:00:05.000Z', deadline_at: null, on_timeout: 'fail' },
        ],
        limit: 20,
        next_cursor: 'abc',
      },
      plain,
      Date.parse('2026-01-01T00:00:12.000Z'),
    );
    expect(lines).toEqual([
      'TASK_ID  TYPE                       STEP     SIGNAL    WAITING  TIMES OUT                    INPUT',
      'post-9   create_blog_post_approved  approve  approval  12.0s    2026-01-02 00:00:00Z (fail)  {"title":"Graphs"}',
      'p-2      x                          go       go        7.00s    never                        {}',
      'more: --cursor abc',
    ]);
  });

  it('tells what a step waits for, what came and who sent it', () => {
    const event = (kind: HistoryKind, data: Record<string, unknown>): HistoryEvent => ({ id: 1, task_id: 't', task_type: 'x', step_id: 'approve', kind, status: 'RUNNING', at: '2026-01-01T00:00:00.000Z', data });
    expect(eventDetail(event(HistoryKind.Waiting, { signal: 'approval', timeout_ms: 60_000, on_timeout: 'fail' }))).toBe('signal approval, times out in 1m 00s (fail)');
    expect(eventDetail(event(HistoryKind.SignalReceived, { signal: 'approval', signal_id: 'd-1', via: 'http', by: 'api-key:1234abcd', kept: true }))).toBe('signal approval (d-1), via http by api-key:1234abcd, kept for its step');
    expect(eventDetail(event(HistoryKind.TimedOut, { timeout_ms: 500, on_timeout: 'skip' }))).toBe('nothing came in 500ms, skip');
    expect(eventDetail(event(HistoryKind.Waiting, { event: 'payment.received', match: { invoice_id: 'i-1' } }))).toBe('event payment.received {"invoice_id":"i-1"}');
    expect(eventDetail(event(HistoryKind.Woke, { until: '2026-01-01T00:10:00.000Z' }))).toBe('until 2026-01-01T00:10:00.000Z');
  });
});
