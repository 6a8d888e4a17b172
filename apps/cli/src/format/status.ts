import type { TaskProgressView } from '@orchestrator/contracts';
import type { Colors } from '../output.js';
import type { Cell } from './table.js';

/** A status in its colour: green done, red failed, yellow cancelled or retrying, cyan running, magenta queued, dim waiting or skipped. */
export function statusCell(status: string, colors: Colors): Cell {
  const style = (() => {
    switch (status) {
      case 'COMPLETED':
        return colors.green;
      case 'FAILED':
        return colors.red;
      case 'CANCELLED':
      case 'RETRYING':
        return colors.yellow;
      case 'RUNNING':
        return colors.cyan;
      case 'QUEUED':
      case 'WAITING':
        return colors.magenta;
      default:
        return colors.dim;
    }
  })();
  return { text: status, style };
}

/**
 * A task's steps: `3/5`, then what did not complete, in its colour: `3/5, 1 failed, 1 cancelled`.
 * Skipped steps count as settled but are named (`4/5, 1 skipped`).
 */
export function progressCell(progress: TaskProgressView, colors: Colors, unit = ''): Cell {
  const parts = [`${progress.done}/${progress.total}${unit}`];
  if (progress.failed > 0) parts.push(`${progress.failed} failed`);
  if (progress.cancelled > 0) parts.push(`${progress.cancelled} cancelled`);
  if (progress.skipped > 0) parts.push(`${progress.skipped} skipped`);
  const style = progress.failed > 0 ? colors.red : progress.cancelled > 0 ? colors.yellow : (text: string) => text;
  return { text: parts.join(', '), style };
}
