import type { AgentStatusView, TaskListView, WorkflowReloadView, WorkflowSummaryView } from '@orchestrator/contracts';
import type { Colors } from '../output.js';
import { between, formatDuration } from './duration.js';
import { progressCell, statusCell } from './status.js';
import { alignColumns, type Cell } from './table.js';

const header = (colors: Colors, ...names: string[]): Cell[] => names.map((name) => ({ text: name, style: colors.dim }));

/** `orchestrator list`: a page of tasks, newest first, and how to get the next one. */
export function renderTaskList(page: TaskListView, colors: Colors, now = Date.now()): string[] {
  if (page.items.length === 0) return ['no tasks'];
  const rows: Cell[][] = [header(colors, 'TASK_ID', 'TYPE', 'STATUS', 'STEPS', 'CREATED', 'DURATION')];
  for (const task of page.items) {
    const ms = between(task.started_at ?? task.created_at, task.completed_at, now);
    rows.push([
      task.task_id,
      task.task_type,
      statusCell(task.status, colors),
      progressCell(task.progress, colors),
      task.created_at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      ms === null ? '-' : `${formatDuration(ms)}${task.completed_at === null ? '…' : ''}`,
    ]);
  }
  const lines = alignColumns(rows);
  if (page.total !== undefined) lines.push(colors.dim(`${page.total} task(s) match`));
  if (page.next_cursor) lines.push(colors.dim(`more: --cursor ${page.next_cursor}`));
  return lines;
}

/** `orchestrator agents`: each live agent, its capabilities, instances and load. */
export function renderAgents(agents: readonly AgentStatusView[], colors: Colors): string[] {
  if (agents.length === 0) return ['no live agents'];
  const rows: Cell[][] = [header(colors, 'NAME', 'INSTANCES', 'IN_FLIGHT', 'CAPACITY', 'LOAD', 'CAPABILITIES')];
  for (const agent of agents) {
    rows.push([
      agent.name,
      agent.static ? 'static' : String(agent.instances.length),
      String(Math.max(agent.in_flight, agent.reported_in_flight)),
      agent.capacity === null ? '-' : String(agent.capacity),
      agent.load === null ? '-' : `${Math.round(agent.load * 100)}%`,
      agent.capabilities.join(', '),
    ]);
  }
  return alignColumns(rows);
}

/** `orchestrator workflows`: the definitions loaded, with their versions and steps. */
export function renderWorkflows(workflows: readonly WorkflowSummaryView[], colors: Colors): string[] {
  if (workflows.length === 0) return ['no workflows'];
  const rows: Cell[][] = [header(colors, 'TASK_TYPE', 'VERSION', 'PLAN', 'DESCRIPTION')];
  for (const workflow of workflows) {
    rows.push([
      workflow.task_type,
      String(workflow.version),
      workflow.plan === 'dynamic' ? 'planned at run time' : `${workflow.steps.length} steps`,
      { text: workflow.description ?? '', style: colors.dim },
    ]);
  }
  return alignColumns(rows);
}

/** `orchestrator workflows reload`: what changed, one line each. */
export function renderReload(change: WorkflowReloadView): string[] {
  if (!change.changed) return [`no change: ${change.workflows} workflow(s) loaded`];
  return [
    ...change.added.map((w) => `added    ${w.task_type} v${w.version}`),
    ...change.updated.map((w) => `updated  ${w.task_type} v${w.from_version} -> v${w.to_version}`),
    ...change.removed.map((w) => `removed  ${w.task_type} v${w.version}`),
    `${change.workflows} workflow(s) loaded; new runs use them, running ones keep their plan`,
  ];
}
