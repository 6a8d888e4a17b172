import { Graph, layout } from '@dagrejs/dagre';

export interface Box {
  id: string;
  width: number;
  height: number;
}

export interface Placed extends Box {
  /** Top-left corner, as React Flow places nodes. */
  x: number;
  y: number;
}

/**
 * Places the nodes of a DAG left to right by dependency (dagre's layered layout): prerequisites
 * to the left of what depends on them, parallel steps one above the other.
 */
export function layoutGraph(boxes: readonly Box[], edges: readonly { source: string; target: string }[]): Map<string, Placed> {
  const graph = new Graph();
  graph.setGraph({ rankdir: 'LR', nodesep: 28, ranksep: 64, marginx: 8, marginy: 8 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const box of boxes) graph.setNode(box.id, { width: box.width, height: box.height });
  for (const edge of edges) if (graph.hasNode(edge.source) && graph.hasNode(edge.target)) graph.setEdge(edge.source, edge.target);
  layout(graph);
  const placed = new Map<string, Placed>();
  for (const box of boxes) {
    const node = graph.node(box.id) as { x: number; y: number };
    placed.set(box.id, { ...box, x: node.x - box.width / 2, y: node.y - box.height / 2 });
  }
  return placed;
}

/** Edges from each step's prerequisites to it. */
export function dependencyEdges(steps: readonly { id: string; depends_on: readonly string[] }[]): { id: string; source: string; target: string }[] {
  return steps.flatMap((step) => step.depends_on.map((dep) => ({ id: `${dep}->${step.id}`, source: dep, target: step.id })));
}
