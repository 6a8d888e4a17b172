import { Background, Controls, MarkerType, ReactFlow, useReactFlow, useStore, type Edge, type Node, type NodeTypes } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useEffect, useMemo } from 'react';
import { dependencyEdges, layoutGraph, type Box } from './layout';

/** Fits the graph to its box again when its shape or the box changes (a side panel opened, a step added). */
function Refit({ on }: { on: string }) {
  const { fitView } = useReactFlow();
  // The size React Flow measured of its box: it changes after the box did.
  const size = useStore((state) => `${state.width}x${state.height}`);
  useEffect(() => {
    const frame = requestAnimationFrame(() => void fitView({ padding: 0.15, maxZoom: 1.1 }));
    return () => cancelAnimationFrame(frame);
  }, [on, size, fitView]);
  return null;
}

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
  /** Something outside that changes the graph's box (e.g. a panel beside it): the graph is fitted again when it changes. */
  fitKey?: string;
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
      // Fixed sizes: the nodes are rebuilt at every update, and a node without known dimensions is hidden until measured.
      width: step.width,
      height: step.height,
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
        colorMode="system"
        onNodeClick={(_, node) => props.onSelect?.(node.id)}
      >
        <Refit on={`${shape}|${props.fitKey ?? ''}`} />
        <Background gap={16} size={1} />
        {props.interactive && <Controls showInteractive={false} />}
      </ReactFlow>
    </div>
  );
}
