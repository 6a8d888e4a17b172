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
