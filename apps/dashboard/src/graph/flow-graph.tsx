import { Background, Controls, MarkerType, ReactFlow, type Edge, type Node, type NodeTypes } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useMemo } from 'react';
import { dependencyEdges, layoutGraph, type Box } from './layout';

export interface FlowStep<D> extends Box {
  depends_on: readonly string[];
  data: D;
}

/**
 * A DAG of steps drawn with React Flow and laid out by dagre. The layout is computed again only
 * when the shape changes (ids, sizes, edges), so live updates of the nodes' data keep them in place.
 */
export function FlowGraph<D extends Record<string, unknown>>(props: {
  steps: readonly FlowStep<D>[];
  nodeTypes: NodeTypes;
  nodeType: string;
  height: number;
  interactive?: boolean;
  onSelect?: (id: string) => void;
  /** Edges into a node of this status are animated (work flowing). */
  animateInto?: (data: D) => boolean;
}) {
  const { steps } = props;
  const shape = JSON.stringify(steps.map((s) => [s.id, s.width, s.height, s.depends_on]));
  // eslint-disable-next-line react-hooks/exhaustive-deps -- `shape` stands for what the layout reads of `steps`
  const placed = useMemo(() => layoutGraph(steps, dependencyEdges(steps)), [shape]);
  const nodes: Node<D>[] = steps.map((step) => {
    const at = placed.get(step.id);
    return {
      id: step.id,
      type: props.nodeType,
      position: { x: at?.x ?? 0, y: at?.y ?? 0 },
      data: step.data,
      style: { width: step.width, height: step.height },
      draggable: false,
      connectable: false,
    };
  });
  const byId = new Map(steps.map((s) => [s.id, s]));
  const edges: Edge[] = dependencyEdges(steps).map((edge) => {
    const target = byId.get(edge.target);
    return {
      ...edge,
      markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
      animated: target !== undefined && (props.animateInto?.(target.data) ?? false),
    };
  });
  return (
    <div className="flow" style={{ height: props.height }}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={props.nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1.1 }}
        minZoom={0.2}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={props.interactive ?? false}
        zoomOnScroll={props.interactive ?? false}
        panOnDrag={props.interactive ?? false}
        preventScrolling={props.interactive ?? false}
        proOptions={{ hideAttribution: true }}
        onNodeClick={(_, node) => props.onSelect?.(node.id)}
      >
        <Background gap={16} size={1} />
        {props.interactive && <Controls showInteractive={false} />}
      </ReactFlow>
    </div>
  );
}
