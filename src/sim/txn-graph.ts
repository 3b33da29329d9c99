/**
 * The dependency graph of a transaction history and the cycle search over it,
 * for the Elle-style checker in txn-checkers.ts (Kingsbury & Alvaro, "Elle",
 * VLDB 2020, §4–5; Adya's thesis for the edge kinds). Our own code.
 *
 * Nodes are dense indices 0..size-1. An edge between two nodes carries a set
 * of kinds (a bit mask), each with the key that justified it. The search is
 * Elle's: Tarjan's strongly connected components first, and only inside a
 * non-trivial component a breadth-first search for a short cycle, once per
 * anomaly class over the edge kinds that class allows.
 */
import { assert } from '../common/index.js';

/** Write-write (version order), write-read, read-write (anti-dependency), real time. */
export const WW = 1;
export const WR = 2;
export const RW = 4;
export const RT = 8;

export type EdgeKind = 'ww' | 'wr' | 'rw' | 'rt';
const KIND_NAMES: readonly EdgeKind[] = ['ww', 'wr', 'rw', 'rt'];
const kindBit = (k: number): number => 31 - Math.clz32(k);

interface Edge {
  readonly to: number;
  mask: number;
  /** By kind bit index: the key whose reads or appends gave that kind. */
  readonly keys: (string | undefined)[];
}

/** One step of a cycle, labelled with the one kind that explains it. */
export interface LabelledStep {
  readonly from: number;
  readonly to: number;
  readonly kind: EdgeKind;
  readonly key: string | undefined;
}

export class DepGraph {
  readonly out: Edge[][];
  private readonly byPair = new Map<number, Edge>();

  constructor(readonly size: number) {
    this.out = Array.from({ length: size }, () => []);
  }

  /** Adds `kind` to the edge from → to. Self-edges say nothing about order and are dropped. */
  add(from: number, to: number, kind: number, key?: string): void {
    if (from === to) return;
    const pair = from * this.size + to;
    let e = this.byPair.get(pair);
    if (e === undefined) {
      e = { to, mask: 0, keys: [] };
      this.byPair.set(pair, e);
      this.out[from].push(e);
    }
    if ((e.mask & kind) === 0) {
      e.mask |= kind;
      e.keys[kindBit(kind)] = key;
    }
  }

  edge(from: number, to: number): Edge | undefined {
    return this.byPair.get(from * this.size + to);
  }
}

/**
 * A cycle class to search for: a cycle that starts with an edge having
 * `first` and none of `unless` (so that the cycle really needs that kind
 * there), then returns along edges having any kind in `rest`.
 */
export interface CycleSearch {
  readonly first: number;
  readonly unless: number;
  readonly rest: number;
}

/**
 * Scratch space reused across the many small searches of one check, so that a
 * history with thousands of tiny components does not allocate per component.
 * Invariant between calls: index[v] = -1, onStack[v] = 0, prev[v] = -1 for all v.
 */
export class GraphSearch {
  private readonly index: Int32Array;
  private readonly low: Int32Array;
  private readonly onStack: Uint8Array;
  private readonly prev: Int32Array;
  private readonly comp: Int32Array;
  /** scope[v] === gen ⇔ v is in the node set currently searched. */
  private readonly scope: Uint32Array;
  private gen = 0;
  /** The node set currently searched, as given. */
  private nodes: readonly number[] = [];

  constructor(private readonly g: DepGraph) {
    const n = g.size;
    this.index = new Int32Array(n).fill(-1);
    this.low = new Int32Array(n);
    this.onStack = new Uint8Array(n);
    this.prev = new Int32Array(n).fill(-1);
    this.comp = new Int32Array(n);
    this.scope = new Uint32Array(n);
  }

  /** The components of the whole graph over edges meeting `mask`, sinks first. */
  components(mask: number): number[][] {
    return this.within(Array.from({ length: this.g.size }, (_, i) => i), () => this.tarjan(mask));
  }

  /** Searches for a cycle of class `c` inside `nodes` (a component of a coarser mask); undefined if none. */
  findCycle(nodes: readonly number[], c: CycleSearch): number[] | undefined {
    return this.within(nodes, () => this.cycleIn(c));
  }

  private within<T>(nodes: readonly number[], f: () => T): T {
    this.gen++;
    for (const v of nodes) this.scope[v] = this.gen;
    this.nodes = nodes;
    return f();
  }

  private inScope(v: number): boolean {
    return this.scope[v] === this.gen;
  }

  /**
   * Tarjan's algorithm, iterative (a 10,000-transaction chain would overflow
   * the call stack), over the scoped nodes and edges meeting `mask`. Emits
   * components in reverse topological order: a component only after every
   * component it reaches. Sets comp[v] to the component's position.
   */
  private tarjan(mask: number): number[][] {
    const { index, low, onStack, comp } = this;
    const out = this.g.out;
    const comps: number[][] = [];
    const stack: number[] = [];
    const calls: number[] = [];
    const cursor: number[] = [];
    let counter = 0;
    const enter = (v: number): void => {
      index[v] = low[v] = counter++;
      stack.push(v);
      onStack[v] = 1;
      calls.push(v);
      cursor.push(0);
    };
    for (const root of this.nodes) {
      if (index[root] !== -1) continue;
      enter(root);
      while (calls.length > 0) {
        const top = calls.length - 1;
        const v = calls[top];
        const edges = out[v];
        let i = cursor[top];
        let descended = false;
        while (i < edges.length) {
          const e = edges[i++];
          if ((e.mask & mask) === 0 || !this.inScope(e.to)) continue;
          if (index[e.to] === -1) {
            cursor[top] = i;
            enter(e.to);
            descended = true;
            break;
          }
          if (onStack[e.to] === 1) low[v] = Math.min(low[v], index[e.to]);
        }
        if (descended) continue;
        calls.pop();
        cursor.pop();
        if (low[v] === index[v]) {
          const c: number[] = [];
          let w: number;
          do {
            w = stack.pop()!;
            onStack[w] = 0;
            comp[w] = comps.length;
            c.push(w);
          } while (w !== v);
          comps.push(c);
        }
        if (calls.length > 0) {
          const u = calls[calls.length - 1];
          low[u] = Math.min(low[u], low[v]);
        }
      }
    }
    for (const v of this.nodes) index[v] = -1;
    return comps;
  }

  private cycleIn(c: CycleSearch): number[] | undefined {
    const comps = this.tarjan(c.rest);
    const { comp } = this;
    // Candidates a → b whose first edge lies outside `rest`: b may still reach
    // a through other components of the `rest` graph.
    const across: [a: number, b: number][] = [];
    for (const a of this.nodes) {
      for (const e of this.g.out[a]) {
        if ((e.mask & c.first) === 0 || (e.mask & c.unless) !== 0 || !this.inScope(e.to)) continue;
        if (comp[a] === comp[e.to]) return this.closeCycle(a, e.to, c.rest);
        // Sinks come first: b can reach a only from a later component.
        if ((c.first & ~c.rest) !== 0 && comp[e.to] > comp[a]) across.push([a, e.to]);
      }
    }
    if (across.length === 0) return undefined;
    const hit = this.reachable(comps, c.rest, across);
    return hit === undefined ? undefined : this.closeCycle(hit[0], hit[1], c.rest);
  }

  /** The cycle a → b ⇝ a, as [a, b, …] without repeating a. */
  private closeCycle(a: number, b: number, mask: number): number[] {
    const back = this.path(b, a, mask);
    assert(back !== undefined, 'txn-graph: a component member does not reach another');
    return [a, ...back.slice(0, -1)];
  }

  /**
   * The first pair [a, b] with b reaching a over `mask`, by bit-set closure on
   * the condensation, in chunks of target components so that memory stays
   * O(components × 1024 bits) however large the history.
   */
  private reachable(comps: readonly number[][], mask: number, pairs: readonly [number, number][]): [number, number] | undefined {
    const { comp } = this;
    const k = comps.length;
    const succ: number[][] = comps.map(() => []);
    for (let ci = 0; ci < k; ci++) {
      for (const v of comps[ci]) {
        for (const e of this.g.out[v]) {
          if ((e.mask & mask) !== 0 && this.inScope(e.to) && comp[e.to] !== ci) succ[ci].push(comp[e.to]);
        }
      }
    }
    const targets = [...new Set(pairs.map(([a]) => comp[a]))];
    const CHUNK = 1024;
    const bit = new Int32Array(k).fill(-1);
    for (let start = 0; start < targets.length; start += CHUNK) {
      const chunk = targets.slice(start, start + CHUNK);
      const words = Math.ceil(chunk.length / 32);
      chunk.forEach((t, i) => (bit[t] = i));
      const reach = new Uint32Array(k * words);
      for (let ci = 0; ci < k; ci++) {
        const base = ci * words;
        if (bit[ci] >= 0) reach[base + (bit[ci] >>> 5)] |= 1 << (bit[ci] & 31);
        for (const d of succ[ci]) for (let w = 0; w < words; w++) reach[base + w] |= reach[d * words + w];
      }
      for (const [a, b] of pairs) {
        const t = bit[comp[a]];
        if (t >= 0 && (reach[comp[b] * words + (t >>> 5)] & (1 << (t & 31))) !== 0) return [a, b];
      }
      for (const t of chunk) bit[t] = -1;
    }
    return undefined;
  }

  /** A shortest path from → to over scoped edges meeting `mask`, both ends included. */
  private path(from: number, to: number, mask: number): number[] | undefined {
    const { prev } = this;
    const seen: number[] = [from];
    prev[from] = from;
    let found = from === to;
    for (let head = 0; head < seen.length && !found; head++) {
      const v = seen[head];
      for (const e of this.g.out[v]) {
        if ((e.mask & mask) === 0 || !this.inScope(e.to) || prev[e.to] !== -1) continue;
        prev[e.to] = v;
        seen.push(e.to);
        if (e.to === to) {
          found = true;
          break;
        }
      }
    }
    let result: number[] | undefined;
    if (found) {
      result = [to];
      for (let v = to; v !== from; v = prev[v]) result.push(prev[v]);
      result.reverse();
    }
    for (const v of seen) prev[v] = -1;
    return result;
  }
}

/** Preference when one edge has several kinds: the least damning explanation. */
const PREFERENCE = [WW, WR, RT, RW];

/**
 * Labels a cycle [v0, v1, …, vk] (closing vk → v0) found by `c`: the first
 * edge with its `first` kind, the others with their preferred kind in `rest`.
 */
export function labelCycle(g: DepGraph, cycle: readonly number[], c: CycleSearch): LabelledStep[] {
  return cycle.map((from, i) => {
    const to = cycle[(i + 1) % cycle.length];
    const e = g.edge(from, to)!;
    const allowed = e.mask & (i === 0 ? c.first : c.rest);
    const kind = PREFERENCE.find((k) => (allowed & k) !== 0)!;
    return { from, to, kind: KIND_NAMES[kindBit(kind)], key: e.keys[kindBit(kind)] };
  });
}
