import type { ApprovalListView } from '@orchestrator/contracts';
import type { Colors } from '../output.js';
import { between, formatDuration } from './duration.js';
import { alignColumns, type Cell } from './table.js';

/** `orchestrator approvals`: each step waiting for a signal, how long it has waited, until when, and what it shows. */
export function renderApprovals(page: ApprovalListView, colors: Colors, now = Date.now()): string[] {
  if (page.items.length === 0) return ['nothing waits for a signal'];
  const rows: Cell[][] = [['TASK_ID', 'TYPE', 'STEP', 'SIGNAL', 'WAITING', 'TIMES OUT', 'INPUT'].map((name) => ({ text: name, style: colors.dim }))];
  for (const item of page.items) {
    const waited = between(item.waiting_since, null, now);
    const input = JSON.stringify(item.input);
    rows.push([
      item.task_id,
      item.task_type,
      item.step,
      item.signal,
      waited === null ? '-' : formatDuration(waited),
      item.deadline_at === null ? 'never' : `${item.deadline_at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} (${item.on_timeout})`,
      input.length > 60 ? `${input.slice(0, 59)}…` : input,
    ]);
  }
  const lines = alignColumns(rows);
  if (page.next_cursor) lines.push(colors.dim(`more: --cursor ${page.next_cursor}`));
  return lines;
}
