import { describe, expect, it } from 'vitest';
import { walkGraph } from './graph.js';

const graph = (edges: Record<string, string[]>) => walkGraph(Object.keys(edges), (node) => edges[node] ?? []);

describe('walkGraph', () => {
  it('gives the longest path from each node, the node first', () => {
    const { longest, cycles } = graph({ a: ['b', 'c'], b: ['d'], c: [], d: [] });
    expect(cycles).toEqual([]);
    expect(Object.fromEntries(longest)).toEqual({ a: ['a', 'b', 'd'], b: ['b', 'd'], c: ['c'], d: ['d'] });
  });

  it('follows successors that are not among the nodes as paths of their own', () => {
    expect(walkGraph(['a'], (node) => (node === 'a' ? ['outside'] : [])).longest.get('a')).toEqual(['a', 'outside']);
  });

  it('names each cycle once, as the path that closes it, in the order walked', () => {
    expect(graph({ a: ['c'], b: ['a'], c: ['b'], d: ['d'], e: ['a'] }).cycles).toEqual([
      ['a', 'c', 'b', 'a'],
      ['d', 'd'],
    ]);
  });
});
