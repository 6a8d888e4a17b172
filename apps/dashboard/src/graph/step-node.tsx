import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { elapsed } from '../format';
import { useNow } from '../hooks/use-now';
import type { StepNodeData } from '../model/workflow-model';

export const NODE_WIDTH = 230;
const NODE_HEIGHT = 80;
const CELL = 12;
const CELLS_PER_ROW = 16;

/** A node's height: room for its items' cells under a `for_each` step. */
export function nodeHeight(data: StepNodeData): number {
  if (data.items === null) return NODE_HEIGHT;
  const rows = Math.max(1, Math.ceil(Math.min(data.items.length, 160) / CELLS_PER_ROW));
  return NODE_HEIGHT + 18 + rows * (CELL + 2);
}

function displayStatus(data: StepNodeData): string {
  return data.skipped ? 'skipped' : data.status.toLowerCase();
}

/** One step of a running workflow, colored by status, with its agent, attempts and duration. */
export function StepNode({ data }: NodeProps<Node<StepNodeData>>) {
  const now = useNow();
  const items = data.items;
  const done = items?.filter((item) => item.status === 'COMPLETED').length ?? 0;
  return (
    <div
      className={`step-node status-${data.skipped ? 'skipped' : data.status.toLowerCase()}${data.selected ? ' selected' : ''}`}
      data-step={data.id}
      data-status={data.status}
      title={data.condition ? `when: ${data.condition}` : undefined}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="step-node-head">
        <span className="step-node-id">{data.id}</span>
        <span className="step-node-status">{displayStatus(data)}</span>
      </div>
      <div className="step-node-line" title="agent">
        {data.agent}
      </div>
      <div className="step-node-line muted">
        {items === null ? (
          <span data-role="attempts" title={data.attempts_in_all !== data.attempts ? `${data.attempts_in_all} attempts in all, earlier runs included` : undefined}>
            attempt {data.attempts}
            {data.max_attempts !== null ? `/${data.max_attempts}` : ''}
          </span>
        ) : (
          <span>for each item</span>
        )}
        <span data-role="duration">{elapsed(data.started_at, data.completed_at, now)}</span>
      </div>
      {data.progress && data.status === 'RUNNING' && (
        <div className="step-node-progress" title={data.progress.message ?? undefined}>
          <span style={{ width: `${Math.round(data.progress.fraction * 100)}%` }} />
        </div>
      )}
      {items && (
        <div className="step-node-items">
          <div className="muted">
            {done}/{items.length} items
            {data.optional ? ' · optional' : ''}
          </div>
          <div className="cells">
            {items.slice(0, 160).map((item) => (
              <span key={item.key} className={`cell status-${item.status.toLowerCase()}`} title={`${item.key}: ${item.status.toLowerCase()}`} data-item={item.key} data-status={item.status} />
            ))}
            {items.length > 160 && <span className="muted"> +{items.length - 160}</span>}
          </div>
        </div>
      )}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}
