import { describe, expect, it } from 'vitest';
import { DepGraph, GraphSearch, labelCycle, RT, RW, WR, WW } from './txn-graph.js';

const all = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const sorted = (comps: number[][]): number[][] => comps.map((c) => [...c].sort((a, b) => a - b)).sort((a, b) => a[0] - b[0]);

describe('transaction dependency graph', () => {
  it('merges kinds on one edge, keeps the first key per kind, drops self-edges', () => {
    const g = new DepGraph(3);
    g.add(0, 1, WW, 'x');
    g.add(0, 1, WR, 'y');
    g.add(0, 1, WW, 'z');
    g.add(2, 2, WW, 'x');
    expect(g.edge(0, 1)).toMatchObject({ mask: WW | WR, keys: ['x', 'y'] });
    expect(g.out[2]).toEqual([]);
  });

  it('finds strongly connected components over the kinds asked for, sinks first', () => {
    const g = new DepGraph(5);
    g.add(0, 1, WW);
    g.add(1, 0, RW);
    g.add(1, 2, WW);
    g.add(2, 3, WR);
    g.add(3, 2, WR);
    g.add(3, 4, WW);
    const s = new GraphSearch(g);
    expect(sorted(s.components(WW | WR | RW))).toEqual([[0, 1], [2, 3], [4]]);
    expect(sorted(s.components(WW))).toEqual([[0], [1], [2], [3], [4]]);
    // Reverse topological: 4 before {2, 3} before {0, 1}.
    expect(s.components(WW | WR | RW).map((c) => Math.min(...c))).toEqual([4, 2, 0]);
  });

  it('handles a 100,000-node chain without recursion', () => {
    const n = 100_000;
    const g = new DepGraph(n);
    for (let i = 0; i + 1 < n; i++) g.add(i, i + 1, WW);
    g.add(n - 1, 0, RW);
    const s = new GraphSearch(g);
    expect(s.components(WW | RW).length).toBe(1);
    expect(s.findCycle(all(n), { first: WW, unless: 0, rest: WW })).toBeUndefined();
    expect(s.findCycle(all(n), { first: RW, unless: WW, rest: WW })?.length).toBe(n);
  });

  it('returns a shortest cycle through the first edge', () => {
    const g = new DepGraph(4);
    g.add(0, 1, WR, 'k');
    g.add(1, 2, WW);
    g.add(2, 3, WW);
    g.add(3, 0, WW);
    g.add(1, 0, WW, 'j');
    const s = new GraphSearch(g);
    const c = { first: WR, unless: 0, rest: WW | WR };
    const cycle = s.findCycle(all(4), c)!;
    expect(cycle).toEqual([0, 1]);
    expect(labelCycle(g, cycle, c)).toEqual([
      { from: 0, to: 1, kind: 'wr', key: 'k' },
      { from: 1, to: 0, kind: 'ww', key: 'j' },
    ]);
  });

  it('labels an edge with its mildest allowed kind, and `unless` keeps milder edges out of first place', () => {
    const g = new DepGraph(2);
    g.add(0, 1, RW | RT);
    g.add(1, 0, WW | WR | RT);
    const s = new GraphSearch(g);
    const single = { first: RW, unless: WW | WR, rest: WW | WR };
    expect(labelCycle(g, s.findCycle([0, 1], single)!, single).map((x) => x.kind)).toEqual(['rw', 'ww']);
    expect(s.findCycle([0, 1], { first: RW, unless: WW | WR | RT, rest: WW | WR | RT })).toBeUndefined();
    const rt = { first: RT, unless: WW | WR, rest: WW | WR | RT };
    expect(labelCycle(g, s.findCycle([0, 1], rt)!, rt).map((x) => x.kind)).toEqual(['rt', 'ww']);
  });

  it('searches only inside the node set given', () => {
    const g = new DepGraph(3);
    g.add(0, 1, WW);
    g.add(1, 2, WW);
    g.add(2, 0, WW);
    const s = new GraphSearch(g);
    expect(s.findCycle([0, 1, 2], { first: WW, unless: 0, rest: WW })).toHaveLength(3);
    expect(s.findCycle([0, 1], { first: WW, unless: 0, rest: WW })).toBeUndefined();
  });

  it('finds the one closing anti-dependency among more than a chunk of candidates', () => {
    // Two independent ww chains A (0..m-1) and B (m..2m-1); rw edges A[i] → B[i]
    // close nothing; the last, B[m-1] → B[0], closes the whole of B. Its target
    // is the (m+1)th, past the first 1024-target chunk.
    const m = 1500;
    const g = new DepGraph(2 * m);
    for (let i = 0; i + 1 < m; i++) {
      g.add(i, i + 1, WW);
      g.add(m + i, m + i + 1, WW);
    }
    for (let i = 0; i < m; i++) g.add(i, m + i, RW);
    const s = new GraphSearch(g);
    const single = { first: RW, unless: WW | WR, rest: WW | WR };
    expect(s.findCycle(all(2 * m), single)).toBeUndefined();
    g.add(2 * m - 1, m, RW);
    const cycle = s.findCycle(all(2 * m), single)!;
    expect(cycle).toHaveLength(m);
    expect(cycle[0]).toBe(2 * m - 1);
  });
});
