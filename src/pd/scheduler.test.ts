/**
 * The scheduler's decisions as pure functions of a hand-built ClusterState:
 * what it must plan (a move to an empty store, a rebuild of a dead store's
 * replica, a leadership to an idle voter) and what it must never plan (a move
 * onto a down store, two replicas of a range on one store, a transfer to a
 * learner, churn over a difference of one). Then a property: repeatedly
 * applying planReplicaMove to a random cluster converges to counts within one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replicaIdFor } from '../replica/index.js';
import { ClusterState } from './cluster-state.js';
import { planDrain, planLeaderTransfer, planRepair, planReplacement, planReplicaMove, planSplit } from './scheduler.js';
import type { ReplicaMove } from './scheduler.js';
import type { RangeDescriptor } from '../common/index.js';

/** FC_SEED=<n> replays a failing run (fast-check prints the seed on failure). */
const params = { seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined, numRuns: 300 };

const DOWN_AFTER = 5_000;
const REPLACE_AFTER = 60_000;
const NOW = 1_000_000;
const enc = new TextEncoder();

interface StoreSpec {
  id: number;
  /** Monotonic ms of the last heartbeat; defaults to NOW (up). 0 = none since the PD leader took over. */
  hb?: number;
}

interface RangeSpec {
  id: number;
  voters: number[];
  learners?: number[];
  leader?: number;
  bytes?: number;
  keys?: number;
}

/** Range `id` covers ["r<id>", "r<id+1>"): ranges never overlap and sort by id. */
function desc(r: RangeSpec): RangeDescriptor {
  const key = (n: number) => enc.encode(`r${String(n).padStart(4, '0')}`);
  return {
    id: r.id,
    start: key(r.id),
    end: key(r.id + 1),
    epoch: { version: 1, confVer: 1 },
    replicas: [
      ...r.voters.map((s) => ({ store: s, replicaId: replicaIdFor(s, 1), role: 'voter' })),
      ...(r.learners ?? []).map((s) => ({ store: s, replicaId: replicaIdFor(s, 2), role: 'learner' })),
    ],
  };
}

function cluster(stores: StoreSpec[], ranges: RangeSpec[], since = 0): ClusterState {
  const st = new ClusterState(DOWN_AFTER, since);
  for (const s of stores) st.stores.set(s.id, { id: s.id, address: `127.0.0.1:${9000 + s.id}`, pid: 0, lastHeartbeat: s.hb ?? NOW });
  for (const r of ranges) st.ranges.set(r.id, { desc: desc(r), leader: r.leader ?? 0, approxBytes: r.bytes ?? 0, approxKeys: r.keys ?? 0 });
  return st;
}

const storesOf = (st: ClusterState, range: number) => st.ranges.get(range)!.desc.replicas.map((r) => r.store);
const up = (...ids: number[]): StoreSpec[] => ids.map((id) => ({ id }));
/** A heartbeat long enough ago that the store is down (by `DOWN_AFTER + extra`). */
const downSince = (extra: number) => NOW - DOWN_AFTER - extra;

describe('a balanced cluster', () => {
  const st = cluster(up(1, 2, 3), [
    { id: 1, voters: [1, 2, 3], leader: 1, bytes: 100, keys: 10 },
    { id: 2, voters: [1, 2, 3], leader: 2, bytes: 100, keys: 10 },
    { id: 3, voters: [1, 2, 3], leader: 3, bytes: 100, keys: 10 },
  ]);

  it('plans no replacement, split, replica move or leader transfer', () => {
    expect(planReplacement(st, NOW, REPLACE_AFTER)).toBeUndefined();
    expect(planSplit(st, 1_000)).toBeUndefined();
    expect(planReplicaMove(st, NOW)).toBeUndefined();
    expect(planLeaderTransfer(st, NOW)).toBeUndefined();
  });

  it('an empty cluster (or a single store) plans nothing either', () => {
    expect(planReplicaMove(cluster([], []), NOW)).toBeUndefined();
    expect(planLeaderTransfer(cluster([], []), NOW)).toBeUndefined();
    const one = cluster(up(1), [{ id: 1, voters: [1], leader: 1 }, { id: 2, voters: [1], leader: 1 }]);
    expect(planReplicaMove(one, NOW)).toBeUndefined();
    expect(planLeaderTransfer(one, NOW)).toBeUndefined();
  });
});

describe('planReplicaMove', () => {
  it('moves a replica from the fullest store to a new empty 4th store, of a range the new store does not hold', () => {
    const st = cluster(up(1, 2, 3, 4), [
      { id: 1, voters: [1, 2, 3], leader: 2 },
      { id: 2, voters: [1, 2, 3], leader: 2 },
      { id: 3, voters: [1, 2, 3], leader: 3 },
      { id: 4, voters: [1], leader: 1 },
    ]);
    // counts: 1 → 4, 2 → 3, 3 → 3, 4 → 0
    const m = planReplicaMove(st, NOW);
    expect(m).toBeDefined();
    expect(m!.from).toBe(1);
    expect(m!.to).toBe(4);
    expect(storesOf(st, m!.range)).toContain(1);
    expect(storesOf(st, m!.range)).not.toContain(4);
  });

  it('never picks a range the target already holds', () => {
    // Store 4 holds ranges 1 and 2; store 1 is fullest; only range 3 can move to 4.
    const st = cluster(up(1, 2, 3, 4), [
      { id: 1, voters: [1, 4] },
      { id: 2, voters: [1, 4] },
      { id: 3, voters: [1, 2] },
      { id: 4, voters: [1, 3] },
      { id: 5, voters: [1, 2, 3] },
    ]);
    // counts: 1 → 5, 2 → 2, 3 → 2, 4 → 2
    const m = planReplicaMove(st, NOW);
    expect(m).toBeDefined();
    expect(m!.from).toBe(1);
    expect(storesOf(st, m!.range)).not.toContain(m!.to);
  });

  it('prefers a range the source does not lead (no leadership transfer needed)', () => {
    const st = cluster(up(1, 2, 3, 4), [
      { id: 1, voters: [1, 2, 3], leader: 1 },
      { id: 2, voters: [1, 2, 3], leader: 1 },
      { id: 3, voters: [1, 2, 3], leader: 2 },
      { id: 4, voters: [1], leader: 1 },
    ]);
    expect(planReplicaMove(st, NOW)).toEqual({ range: 3, from: 1, to: 4 });
  });

  it('still moves a range the source leads when it leads every candidate', () => {
    const st = cluster(up(1, 2, 3, 4), [
      { id: 1, voters: [1, 2, 3], leader: 1 },
      { id: 2, voters: [1, 2, 3], leader: 1 },
      { id: 3, voters: [1, 2, 3], leader: 1 },
      { id: 4, voters: [1], leader: 1 },
    ]);
    const m = planReplicaMove(st, NOW);
    expect(m).toMatchObject({ from: 1, to: 4 });
  });

  it('never targets a down store, nor one that has not heartbeated since the PD leader took over', () => {
    const ranges: RangeSpec[] = [
      { id: 1, voters: [1, 2, 3], leader: 1 },
      { id: 2, voters: [1, 2, 3], leader: 2 },
      { id: 3, voters: [1, 2, 3], leader: 3 },
    ];
    expect(planReplicaMove(cluster([...up(1, 2, 3), { id: 4, hb: downSince(1) }], ranges), NOW)).toBeUndefined();
    expect(planReplicaMove(cluster([...up(1, 2, 3), { id: 4, hb: 0 }], ranges, NOW - 10), NOW)).toBeUndefined();
    // Once store 4 reports, it is a target.
    expect(planReplicaMove(cluster([...up(1, 2, 3), { id: 4, hb: NOW - DOWN_AFTER }], ranges), NOW)).toMatchObject({ to: 4 });
  });

  it('ignores the replicas of down stores when balancing the up ones', () => {
    // Store 5 is down and holds a lot; the up stores are balanced among themselves.
    const st = cluster([...up(1, 2, 3), { id: 5, hb: downSince(10) }], [
      { id: 1, voters: [1, 2, 5] },
      { id: 2, voters: [2, 3, 5] },
      { id: 3, voters: [1, 3, 5] },
      { id: 4, voters: [5] },
      { id: 6, voters: [5] },
    ]);
    expect(planReplicaMove(st, NOW)).toBeUndefined();
  });

  it('a difference of exactly one plans nothing', () => {
    const st = cluster(up(1, 2, 3, 4), [
      { id: 1, voters: [1, 2, 3], leader: 1 },
      { id: 2, voters: [1, 2, 4], leader: 2 },
    ]);
    // counts: 1 → 2, 2 → 2, 3 → 1, 4 → 1
    expect(planReplicaMove(st, NOW)).toBeUndefined();
    const st2 = cluster(up(1, 2), [{ id: 1, voters: [1], leader: 1 }]);
    expect(planReplicaMove(st2, NOW)).toBeUndefined();
  });

  it('a difference of two plans a move', () => {
    const st = cluster(up(1, 2), [
      { id: 1, voters: [1], leader: 1 },
      { id: 2, voters: [1], leader: 1 },
    ]);
    expect(planReplicaMove(st, NOW)).toMatchObject({ from: 1, to: 2 });
  });
});

describe('planReplacement', () => {
  const ranges: RangeSpec[] = [{ id: 1, voters: [1, 2, 3], leader: 1 }];

  it('rebuilds the replica of a store down longer than replaceAfterMs on an up store without the range', () => {
    const st = cluster([...up(1, 2, 4), { id: 3, hb: downSince(REPLACE_AFTER + 1) }], ranges);
    expect(planReplacement(st, NOW, REPLACE_AFTER)).toEqual({ range: 1, from: 3, to: 4 });
  });

  it('waits while the store has been down for less than replaceAfterMs', () => {
    const st = cluster([...up(1, 2, 4), { id: 3, hb: downSince(REPLACE_AFTER - 1) }], ranges);
    expect(planReplacement(st, NOW, REPLACE_AFTER)).toBeUndefined();
    // A store merely silent (not yet down) is not replaced even with replaceAfterMs = 0.
    const silent = cluster([...up(1, 2, 4), { id: 3, hb: NOW - DOWN_AFTER }], ranges);
    expect(planReplacement(silent, NOW, 0)).toBeUndefined();
  });

  it('picks the up store with the fewest replicas among those that do not hold the range', () => {
    // Store 2 holds only range 1 (fewest overall) but already has a replica: not eligible.
    // Store 4 (2 replicas) beats store 5 (3 replicas); store 6 is down (not long) and empty: not eligible.
    const st = cluster([...up(1, 2, 4, 5), { id: 3, hb: downSince(REPLACE_AFTER + 1) }, { id: 6, hb: downSince(1) }], [
      { id: 1, voters: [1, 2, 3], leader: 1 },
      { id: 2, voters: [1, 4, 5] },
      { id: 3, voters: [1, 4, 5] },
      { id: 4, voters: [5] },
    ]);
    expect(planReplacement(st, NOW, REPLACE_AFTER)).toEqual({ range: 1, from: 3, to: 4 });
  });

  it('plans nothing when every up store already holds the range', () => {
    const st = cluster([...up(1, 2), { id: 3, hb: downSince(REPLACE_AFTER + 1) }], ranges);
    expect(planReplacement(st, NOW, REPLACE_AFTER)).toBeUndefined();
  });

  it('skips a range that cannot be rebuilt and rebuilds the next one', () => {
    const st = cluster([...up(1, 2, 4), { id: 3, hb: downSince(REPLACE_AFTER + 1) }], [
      { id: 1, voters: [1, 2, 3, 4] },
      { id: 2, voters: [1, 3] },
    ]);
    const m = planReplacement(st, NOW, REPLACE_AFTER);
    expect(m).toMatchObject({ range: 2, from: 3 });
    expect([2, 4]).toContain(m!.to);
  });

  it('gives a store that has not reported since the PD leader took over a grace period counted from `since`', () => {
    const since = NOW - 1_000;
    // Store 3 never heartbeated to this leader: down only after since + downAfterMs, replaced only replaceAfterMs later.
    const at = (t: number) => cluster([{ id: 1, hb: t }, { id: 2, hb: t }, { id: 4, hb: t }, { id: 3, hb: 0 }], ranges, since);
    expect(planReplacement(at(NOW), NOW, REPLACE_AFTER)).toBeUndefined();
    const edge = since + DOWN_AFTER + REPLACE_AFTER - 1;
    expect(planReplacement(at(edge), edge, REPLACE_AFTER)).toBeUndefined();
    const later = since + DOWN_AFTER + REPLACE_AFTER + 1;
    expect(planReplacement(at(later), later, REPLACE_AFTER)).toEqual({ range: 1, from: 3, to: 4 });
  });
});

describe('planSplit', () => {
  it('picks the largest range over the threshold that has more than one key', () => {
    const st = cluster(up(1), [
      { id: 1, voters: [1], bytes: 500, keys: 10 },
      { id: 2, voters: [1], bytes: 2_000, keys: 10 },
      { id: 3, voters: [1], bytes: 5_000, keys: 1 }, // one huge key cannot be split
      { id: 4, voters: [1], bytes: 1_500, keys: 3 },
    ]);
    expect(planSplit(st, 1_000)?.desc.id).toBe(2);
    expect(planSplit(st, 2_000)).toBeUndefined(); // strictly over
    expect(planSplit(st, 10_000)).toBeUndefined();
  });
});

describe('planLeaderTransfer', () => {
  it('moves a leadership from the store leading the most to the one leading the fewest', () => {
    const st = cluster(up(1, 2, 3), [
      { id: 1, voters: [1, 2, 3], leader: 1 },
      { id: 2, voters: [1, 2, 3], leader: 1 },
      { id: 3, voters: [1, 2, 3], leader: 1 },
    ]);
    const t = planLeaderTransfer(st, NOW);
    expect(t).toBeDefined();
    expect(t!.from).toBe(1);
    expect(t!.to).toBe(2);
    expect(st.ranges.get(t!.range)!.leader).toBe(1);
  });

  it('transfers only to a voter of the range, never to a learner', () => {
    const st = cluster(up(1, 2, 3), [
      { id: 1, voters: [1, 3], learners: [2], leader: 1 },
      { id: 2, voters: [1, 3], learners: [2], leader: 1 },
      { id: 3, voters: [1, 3], learners: [2], leader: 1 },
    ]);
    const t = planLeaderTransfer(st, NOW);
    expect(t).toMatchObject({ from: 1, to: 3 });
    const replica = st.ranges.get(t!.range)!.desc.replicas.find((r) => r.store === t!.to);
    expect(replica?.role).toBe('voter');

    const onlyLearners = cluster(up(1, 2, 3), [
      { id: 1, voters: [1], learners: [2, 3], leader: 1 },
      { id: 2, voters: [1], learners: [2, 3], leader: 1 },
      { id: 3, voters: [1], learners: [2, 3], leader: 1 },
    ]);
    expect(planLeaderTransfer(onlyLearners, NOW)).toBeUndefined();
  });

  it('never transfers to a down store', () => {
    const st = cluster([...up(1, 3), { id: 2, hb: downSince(1) }], [
      { id: 1, voters: [1, 2, 3], leader: 1 },
      { id: 2, voters: [1, 2, 3], leader: 1 },
      { id: 3, voters: [1, 2, 3], leader: 1 },
    ]);
    expect(planLeaderTransfer(st, NOW)).toMatchObject({ from: 1, to: 3 });
    const both = cluster([{ id: 1 }, { id: 2, hb: downSince(1) }, { id: 3, hb: downSince(1) }], [
      { id: 1, voters: [1, 2, 3], leader: 1 },
      { id: 2, voters: [1, 2, 3], leader: 1 },
    ]);
    expect(planLeaderTransfer(both, NOW)).toBeUndefined();
  });

  it('a difference of exactly one plans nothing', () => {
    const st = cluster(up(1, 2, 3), [
      { id: 1, voters: [1, 2, 3], leader: 1 },
      { id: 2, voters: [1, 2, 3], leader: 1 },
      { id: 3, voters: [1, 2, 3], leader: 2 },
      { id: 4, voters: [1, 2, 3], leader: 3 },
    ]);
    expect(planLeaderTransfer(st, NOW)).toBeUndefined();
    expect(planLeaderTransfer(cluster(up(1, 2), [{ id: 1, voters: [1, 2], leader: 1 }]), NOW)).toBeUndefined();
  });
});

describe('planReplicaMove, applied until it stops (property)', () => {
  /** A random cluster: some up stores, maybe some down ones, ranges with 1..3 replicas on distinct stores. */
  const clusterArb = fc
    .record({
      upCount: fc.integer({ min: 1, max: 6 }),
      downCount: fc.integer({ min: 0, max: 2 }),
      ranges: fc.array(
        fc.record({ pick: fc.uniqueArray(fc.nat({ max: 7 }), { minLength: 1, maxLength: 3 }), leader: fc.nat({ max: 2 }) }),
        { maxLength: 30 },
      ),
    })
    .map(({ upCount, downCount, ranges }) => {
      const stores: StoreSpec[] = [];
      for (let i = 1; i <= upCount; i++) stores.push({ id: i });
      for (let i = 1; i <= downCount; i++) stores.push({ id: upCount + i, hb: downSince(1) });
      const ids = stores.map((s) => s.id);
      const specs: RangeSpec[] = ranges.map((r, i) => {
        const voters = [...new Set(r.pick.map((p) => ids[p % ids.length]))];
        return { id: i + 1, voters, leader: voters[r.leader % voters.length] };
      });
      return { stores, specs, upIds: ids.slice(0, upCount) };
    });

  /** What the move operator does to the map: the replica leaves `from` for `to`, leadership follows if `from` led. */
  function apply(st: ClusterState, m: ReplicaMove): void {
    const r = st.ranges.get(m.range)!;
    r.desc = {
      ...r.desc,
      epoch: { version: r.desc.epoch.version, confVer: r.desc.epoch.confVer + 2 },
      replicas: r.desc.replicas.map((rep) => (rep.store === m.from ? { store: m.to, replicaId: replicaIdFor(m.to, r.desc.epoch.confVer + 1), role: rep.role } : rep)),
    };
    if (r.leader === m.from) r.leader = m.to;
  }

  it('terminates, keeps at most one replica of a range per store, never uses a down store, and ends within one', () => {
    fc.assert(
      fc.property(clusterArb, ({ stores, specs, upIds }) => {
        const st = cluster(stores, specs);
        const total = specs.reduce((n, r) => n + r.voters.length, 0);
        // Each move lowers the sum of squared counts by at least 2: total² bounds the steps.
        const maxSteps = total * total + 1;
        let steps = 0;
        for (let m = planReplicaMove(st, NOW); m; m = planReplicaMove(st, NOW)) {
          expect(++steps).toBeLessThanOrEqual(maxSteps);
          expect(upIds).toContain(m.from);
          expect(upIds).toContain(m.to);
          expect(m.from).not.toBe(m.to);
          const holders = storesOf(st, m.range);
          expect(holders).toContain(m.from);
          expect(holders).not.toContain(m.to);
          apply(st, m);
          for (const r of st.ranges.values()) {
            const s = r.desc.replicas.map((rep) => rep.store);
            expect(new Set(s).size).toBe(s.length);
          }
        }
        const counts = st.replicaCounts();
        const upCounts = upIds.map((id) => counts.get(id) ?? 0);
        expect(Math.max(...upCounts) - Math.min(...upCounts)).toBeLessThanOrEqual(1);
        // Nothing was created or lost.
        expect([...st.ranges.values()].reduce((n, r) => n + r.desc.replicas.length, 0)).toBe(total);
      }),
      params,
    );
  });
});

describe('planRepair (operators that did not finish)', () => {
  const four = [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }];

  it('plans nothing for ranges with exactly the configured voters', () => {
    expect(planRepair(cluster(four, [{ id: 1, voters: [1, 2, 3], leader: 1 }]), NOW, 3)).toBeUndefined();
  });

  it('removes a stray learner', () => {
    expect(planRepair(cluster(four, [{ id: 1, voters: [1, 2, 3], learners: [4], leader: 1 }]), NOW, 3)).toEqual({ kind: 'remove', range: 1, store: 4 });
  });

  it('removes an extra voter, never the leader, from the fullest store', () => {
    const st = cluster(four, [
      { id: 1, voters: [1, 2, 3, 4], leader: 4 },
      { id: 2, voters: [2, 3, 4], leader: 2 },
    ]);
    const plan = planRepair(st, NOW, 3)!;
    expect(plan.kind).toBe('remove');
    expect(plan.range).toBe(1);
    expect(plan.store).not.toBe(4);
    expect([2, 3]).toContain(plan.store);
  });

  it('adds a voter on an up store without the range when one is missing, never on a down store', () => {
    const st = cluster([{ id: 1 }, { id: 2 }, { id: 3, hb: NOW - 10 * DOWN_AFTER }, { id: 4 }], [{ id: 1, voters: [1, 2], leader: 1 }]);
    expect(planRepair(st, NOW, 3)).toEqual({ kind: 'add', range: 1, store: 4 });
    const noRoom = cluster([{ id: 1 }, { id: 2 }], [{ id: 1, voters: [1, 2], leader: 1 }]);
    expect(planRepair(noRoom, NOW, 3)).toBeUndefined();
  });
});

describe('decommission', () => {
  const retiring = (st: ClusterState, id: number, retire: 'decommissioning' | 'removed') => {
    st.stores.get(id)!.retire = retire;
    return st;
  };

  it('drains a decommissioning store (up or not) onto the up store holding the fewest, one range at a time', () => {
    const st = retiring(
      cluster(up(1, 2, 3, 4, 5), [
        { id: 1, voters: [1, 2, 3], leader: 1 },
        { id: 2, voters: [1, 2, 4], leader: 2 },
      ]),
      1,
      'decommissioning',
    );
    expect(planDrain(st, NOW, 1)).toEqual({ range: 1, from: 1, to: 5 });
    // The scheduler drains it too (a decommission left to a new PD leader), as it rebuilds dead stores' replicas.
    expect(planReplacement(st, NOW, REPLACE_AFTER)).toEqual({ range: 1, from: 1, to: 5 });
  });

  it('never gives a decommissioning or removed store a replica or a place in the balance', () => {
    const st = cluster(up(1, 2, 3, 4, 5), [
      { id: 1, voters: [1, 2, 3], leader: 1 },
      { id: 2, voters: [1, 2, 3], leader: 2 },
      { id: 3, voters: [1, 2, 3], leader: 3 },
    ]);
    retiring(st, 4, 'removed');
    retiring(st, 5, 'decommissioning');
    expect(st.upStores(NOW).map((s) => s.id)).toEqual([1, 2, 3]);
    expect(planReplicaMove(st, NOW)).toBeUndefined();
    expect(planRepair(st, NOW, 3)).toBeUndefined();
  });

  it('plans nothing when no up store can take the replica', () => {
    const st = retiring(cluster(up(1, 2, 3), [{ id: 1, voters: [1, 2, 3], leader: 1 }]), 3, 'decommissioning');
    expect(planDrain(st, NOW, 3)).toBeUndefined();
  });
});
