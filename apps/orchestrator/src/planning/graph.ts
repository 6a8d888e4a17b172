/** What a depth-first walk of a directed graph finds. */
export interface GraphWalk {
  /** The longest path from each node, the node first; an edge that closes a cycle is not followed. */
  longest: Map<string, string[]>;
  /** Each cycle once, as the path that closes it, e.g. `[a, c, b, a]`. */
  cycles: string[][];
}

/** Walks `nodes` in order, following `next` depth first (a node's successors in the order given). */
export function walkGraph(nodes: Iterable<string>, next: (node: string) => Iterable<string>): GraphWalk {
  const longest = new Map<string, string[]>();
  const cycles: string[][] = [];
  const reported = new Set<string>();
  const visiting: string[] = [];
  const visit = (node: string): string[] => {
    const known = longest.get(node);
    if (known) return known;
    const at = visiting.indexOf(node);
    if (at >= 0) {
      const cycle = [...visiting.slice(at), node];
      // The same cycle is reached from each of its members; name it once.
      const key = [...new Set(cycle)].sort().join(',');
      if (!reported.has(key)) cycles.push(cycle);
      reported.add(key);
      return [];
    }
    visiting.push(node);
    let deepest: string[] = [];
    for (const successor of next(node)) {
      const path = visit(successor);
      if (path.length > deepest.length) deepest = path;
    }
    visiting.pop();
    const path = [node, ...deepest];
    longest.set(node, path);
    return path;
  };
  for (const node of nodes) visit(node);
  return { longest, cycles };
}
