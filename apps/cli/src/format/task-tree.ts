import { TaskStatus, type SubTaskView, type TaskDetailView } from '@orchestrator/contracts';
import type { Colors } from '../output.js';
import { between, formatDuration } from './duration.js';
import { statusCell } from './status.js';
import { alignColumns, type Cell } from './table.js';

/** A step's row and the rows of its `for_each` items. */
interface StepNode {
  step: SubTaskView;
  items: SubTaskView[];
}

/** `each[3]` (or `each[3]@1`, retired by a revision) is an item of the row keyed `each` (`each@1`). */
function parentKey(key: string): string | null {
  const match = /^(.+)\[\d+\](@\d+)?$/.exec(key);
  return match ? `${match[1]}${match[2] ?? ''}` : null;
}

/** The steps in the order the orchestrator gives them, each with its items. */
export function stepNodes(steps: readonly SubTaskView[]): StepNode[] {
  const nodes: StepNode[] = [];
  const byKey = new Map<string, StepNode>();
  for (const step of steps) {
    const parent = parentKey(step.step);
    const owner = parent === null ? undefined : byKey.get(parent);
    if (owner) {
      owner.items.push(step);
      continue;
    }
    const node = { step, items: [] };
    nodes.push(node);
    byKey.set(step.step, node);
  }
  return nodes;
}

function duration(step: SubTaskView, now: number): string {
  const ms = between(step.started_at, step.completed_at, now);
  if (ms === null) return '-';
  return step.completed_at === null ? `${formatDuration(ms)}…` : formatDuration(ms);
}

function progressText(step: SubTaskView): string {
  if (step.status === TaskStatus.Waiting && step.wait) return waitText(step.wait);
  if (step.status !== TaskStatus.Running || !step.progress) return '';
  return `${Math.round(step.progress.fraction * 100)}%${step.progress.message ? ` ${step.progress.message}` : ''}`;
}

/** What a WAITING step waits for, and until when. */
function waitText(wait: NonNullable<SubTaskView['wait']>): string {
  const what = wait.kind === 'signal' ? `signal ${wait.signal ?? '?'}` : wait.kind === 'event' ? `event ${wait.event ?? '?'} ${JSON.stringify(wait.match ?? {})}` : 'sleep';
  if (wait.until === null) return `waits for ${what}`;
  return `${wait.kind === 'sleep' ? 'sleeps' : `waits for ${what}`} until ${wait.until}${wait.on_timeout ? ` (then ${wait.on_timeout})` : ''}`;
}

function row(prefix: string, label: string, step: SubTaskView, colors: Colors, now: number): Cell[] {
  return [
    `${prefix}${label}`,
    statusCell(step.status, colors),
    step.agent ?? '-',
    `attempt ${step.attempts}/${step.max_attempts}`,
    duration(step, now),
    { text: progressText(step), style: colors.dim },
  ];
}

/**
 * `orchestrator get`: the task on one line, then its steps as a tree (for_each items under their
 * step), each with its status, agent, attempts and duration, and the error under a failed one.
 */
export function renderTaskTree(task: TaskDetailView, colors: Colors, now = Date.now()): string[] {
  const total = between(task.created_at, task.completed_at, now);
  const head = [
    colors.bold(task.task_id),
    task.workflow ? `${task.workflow.task_type} v${task.workflow.version}` : task.task_type,
    statusCell(task.status, colors),
    `${task.progress.done}/${task.progress.total} steps`,
    total === null ? '' : task.completed_at === null ? `${formatDuration(total)}…` : formatDuration(total),
  ]
    .map((cell) => (typeof cell === 'string' ? cell : cell.style(cell.text)))
    .filter((text) => text !== '')
    .join('  ');
  const rows: Cell[][] = [];
  /** Lines under a row (its error), by the row's index, with the prefix that continues the tree. */
  const notes = new Map<number, string>();
  const nodes = stepNodes(task.steps);
  nodes.forEach((node, n) => {
    const last = n === nodes.length - 1;
    rows.push(row(last ? '└─ ' : '├─ ', node.step.step, node.step, colors, now));
    const below = last ? '   ' : '│  ';
    if (node.step.error) notes.set(rows.length - 1, `${below}${node.items.length > 0 ? '│  ' : '   '}${colors.red(`error: ${node.step.error}`)}`);
    node.items.forEach((item, i) => {
      const lastItem = i === node.items.length - 1;
      rows.push(row(`${below}${lastItem ? '└─ ' : '├─ '}`, item.step.slice(node.step.step.replace(/@\d+$/, '').length), item, colors, now));
      if (item.error) notes.set(rows.length - 1, `${below}${lastItem ? '   ' : '│  '}   ${colors.red(`error: ${item.error}`)}`);
    });
  });
  const lines = [head];
  if (task.error) lines.push(colors.red(`error: ${task.error}`));
  alignColumns(rows).forEach((line, i) => {
    lines.push(line);
    const note = notes.get(i);
    if (note !== undefined) lines.push(note);
  });
  if (nodes.length === 0) lines.push(colors.dim('(no steps)'));
  return lines;
}
