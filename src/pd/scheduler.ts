/**
 * Scheduling decisions, as pure functions of the cluster state (TiKV PD's
 * schedulers, much reduced): which replica to replace because its store is
 * down, which range to split because it grew, which replica to move and which
 * leadership to transfer so that up stores carry about the same load.
 */
import type { ClusterState, RangeState } from './cluster-state.js';

export interface ReplicaMove {
  readonly range: number;
  readonly from: number;
  readonly to: number;
}

export interface LeaderTransfer {
  readonly range: number;
  readonly from: number;
  readonly to: number;
}

/** Up stores ordered by how many replicas they hold, fewest first (ties by id). */
function byReplicaCount(state: ClusterState, now: number): { id: number; n: number }[] {
  const counts = state.replicaCounts();
  return state
    .upStores(now)
    .map((s) => ({ id: s.id, n: counts.get(s.id) ?? 0 }))
    .sort((a, b) => a.n - b.n || a.id - b.id);
}

const hasReplicaOn = (r: RangeState, store: number) => r.desc.replicas.some((rep) => rep.store === store);

/** A replica on one of `sources`, and the up store to rebuild it on (the one holding the fewest). */
function planEvacuation(state: ClusterState, now: number, sources: ReadonlySet<number>): ReplicaMove | undefined {
  if (sources.size === 0) return undefined;
  const candidates = byReplicaCount(state, now);
  for (const r of state.sortedRanges()) {
    const victim = r.desc.replicas.find((rep) => sources.has(rep.store));
    if (!victim) continue;
    const to = candidates.find((c) => !hasReplicaOn(r, c.id));
    if (to) return { range: r.desc.id, from: victim.store, to: to.id };
  }
  return undefined;
}

/** A replica on a store down for longer than `replaceAfterMs` or being decommissioned, and the up store to rebuild it on. */
export function planReplacement(state: ClusterState, now: number, replaceAfterMs: number): ReplicaMove | undefined {
  const leaving = [...state.stores.values()].filter((s) => s.retire === 'decommissioning' || state.downFor(s, now) > replaceAfterMs);
  return planEvacuation(state, now, new Set(leaving.map((s) => s.id)));
}

/** The next replica to move off `store`, which is being decommissioned. */
export function planDrain(state: ClusterState, now: number, store: number): ReplicaMove | undefined {
  return planEvacuation(state, now, new Set([store]));
}

export interface Repair {
  readonly kind: 'add' | 'remove';
  readonly range: number;
  readonly store: number;
}

/**
 * A range left with the wrong replicas by an operator that did not finish
 * (a PD leader died mid-move): a stray learner, more voters than `replicas`
 * (remove one from the fullest store, not the leader's), or fewer (add one
 * on the emptiest up store without the range).
 */
export function planRepair(state: ClusterState, now: number, replicas: number): Repair | undefined {
  const counts = state.replicaCounts();
  const candidates = byReplicaCount(state, now);
  for (const r of state.sortedRanges()) {
    const learner = r.desc.replicas.find((rep) => rep.role === 'learner');
    if (learner) return { kind: 'remove', range: r.desc.id, store: learner.store };
    const voters = r.desc.replicas.filter((rep) => rep.role === 'voter');
    if (voters.length > replicas) {
      const victim = voters.filter((v) => v.store !== r.leader).sort((a, b) => (counts.get(b.store) ?? 0) - (counts.get(a.store) ?? 0) || b.store - a.store)[0];
      if (victim) return { kind: 'remove', range: r.desc.id, store: victim.store };
    }
    if (voters.length < replicas) {
      const to = candidates.find((c) => !hasReplicaOn(r, c.id));
      if (to) return { kind: 'add', range: r.desc.id, store: to.id };
    }
  }
  return undefined;
}

/** The largest range over `splitBytes`, if any. */
export function planSplit(state: ClusterState, splitBytes: number): RangeState | undefined {
  let best: RangeState | undefined;
  for (const r of state.ranges.values()) if (r.approxBytes > splitBytes && r.approxKeys > 1 && (!best || r.approxBytes > best.approxBytes)) best = r;
  return best;
}

/** One replica from the fullest up store to the emptiest, while they differ by more than one. */
export function planReplicaMove(state: ClusterState, now: number): ReplicaMove | undefined {
  const stores = byReplicaCount(state, now);
  if (stores.length < 2) return undefined;
  for (let hi = stores.length - 1; hi > 0; hi--) {
    const from = stores[hi];
    for (const to of stores.slice(0, hi)) {
      if (from.n - to.n <= 1) break;
      // Prefer a range the source does not lead: no leadership transfer needed.
      const ranges = state.sortedRanges().filter((r) => hasReplicaOn(r, from.id) && !hasReplicaOn(r, to.id));
      const pick = ranges.find((r) => r.leader !== from.id) ?? ranges[0];
      if (pick) return { range: pick.desc.id, from: from.id, to: to.id };
    }
  }
  return undefined;
}

/** One leadership from the up store leading the most ranges to one leading the fewest, while they differ by more than one. */
export function planLeaderTransfer(state: ClusterState, now: number): LeaderTransfer | undefined {
  const up = new Set(state.upStores(now).map((s) => s.id));
  const counts = [...state.leaderCounts()].filter(([id]) => up.has(id)).sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  if (counts.length < 2) return undefined;
  for (let hi = counts.length - 1; hi > 0; hi--) {
    const [from, n] = counts[hi];
    for (const [to, m] of counts.slice(0, hi)) {
      if (n - m <= 1) break;
      const pick = state.sortedRanges().find((r) => r.leader === from && r.desc.replicas.some((rep) => rep.store === to && rep.role === 'voter'));
      if (pick) return { range: pick.desc.id, from, to };
    }
  }
  return undefined;
}
