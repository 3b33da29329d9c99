/**
 * ClusterState: descriptors only ever move forward (a higher version, or the
 * same version with a higher confVer), locate() finds the range holding a key,
 * and liveness gives stores that have not reported to a new PD leader a grace
 * period counted from when it took over.
 */
import { describe, expect, it } from 'vitest';
import { replicaIdFor } from '../replica/index.js';
import { ClusterState } from './cluster-state.js';
import { isNewer } from '../transport/index.js';
import type { StoreState } from './cluster-state.js';
import type { RangeDescriptor } from '../common/index.js';

const enc = new TextEncoder();
const k = (s: string) => enc.encode(s);

function range(id: number, start: string, end: string, version = 1, confVer = 1, stores = [1, 2, 3]): RangeDescriptor {
  return { id, start: k(start), end: k(end), epoch: { version, confVer: confVer }, replicas: stores.map((s) => ({ store: s, replicaId: replicaIdFor(s, 1), role: 'voter' })) };
}

describe('offer', () => {
  it('records an unknown range', () => {
    const st = new ClusterState(5_000, 0);
    expect(st.offer(range(1, '', ''))).toBe(true);
    expect(st.ranges.get(1)).toMatchObject({ leader: 0, approxBytes: 0, approxKeys: 0 });
  });

  it.each([
    { what: 'a higher version', version: 3, confVer: 2, accepted: true },
    { what: 'a higher version with a lower confVer', version: 3, confVer: 1, accepted: true },
    { what: 'the same version with a higher confVer', version: 2, confVer: 3, accepted: true },
    { what: 'the same epoch', version: 2, confVer: 2, accepted: false },
    { what: 'the same version with a lower confVer', version: 2, confVer: 1, accepted: false },
    { what: 'a lower version with a higher confVer', version: 1, confVer: 9, accepted: false },
    { what: 'a lower version', version: 1, confVer: 2, accepted: false },
  ])('over epoch 2/2, $what is accepted: $accepted', ({ version, confVer, accepted }) => {
    const st = new ClusterState(5_000, 0);
    const cur = range(7, 'a', 'm', 2, 2);
    st.offer(cur);
    const offered = range(7, 'a', version > 2 ? 'f' : 'm', version, confVer, [1, 2, 4]);
    expect(st.offer(offered)).toBe(accepted);
    expect(st.ranges.get(7)!.desc).toBe(accepted ? offered : cur);
    expect(isNewer(offered, cur)).toBe(accepted);
  });

  it('keeps what heartbeats reported (leader, size) when the descriptor moves forward', () => {
    const st = new ClusterState(5_000, 0);
    st.offer(range(1, 'a', 'z'));
    const r = st.ranges.get(1)!;
    r.leader = 2;
    r.approxBytes = 1234;
    r.approxKeys = 56;
    expect(st.offer(range(1, 'a', 'z', 1, 2, [1, 2, 4]))).toBe(true);
    expect(st.ranges.get(1)).toMatchObject({ leader: 2, approxBytes: 1234, approxKeys: 56 });
    expect(st.ranges.get(1)!.desc.replicas.map((x) => x.store)).toEqual([1, 2, 4]);
  });
});

describe('locate', () => {
  const st = new ClusterState(5_000, 0);
  st.offer(range(3, 'm', '')); // offered out of key order on purpose
  st.offer(range(1, '', 'f'));
  st.offer(range(2, 'f', 'm'));

  it.each([
    ['', 1],
    ['a', 1],
    ['ezzz', 1],
    ['f', 2], // start is inclusive, end exclusive
    ['f\u0000', 2],
    ['lzz', 2],
    ['m', 3],
    ['zzzzzz', 3], // empty end = unbounded
  ])('key %j is in range %i', (key, id) => {
    expect(st.locate(k(key))?.desc.id).toBe(id);
  });

  it('finds nothing in a gap of the map', () => {
    const gap = new ClusterState(5_000, 0);
    gap.offer(range(1, '', 'f'));
    gap.offer(range(3, 'm', ''));
    expect(gap.locate(k('g'))).toBeUndefined();
    expect(new ClusterState(5_000, 0).locate(k('a'))).toBeUndefined();
  });

  it('sortedRanges is in key order', () => {
    expect(st.sortedRanges().map((r) => r.desc.id)).toEqual([1, 2, 3]);
  });
});

describe('liveness and downFor', () => {
  const DOWN = 5_000;
  const SINCE = 100_000;
  const store = (lastHeartbeat: number): StoreState => ({ id: 1, address: 'x', pid: 0, lastHeartbeat });
  const st = new ClusterState(DOWN, SINCE);

  it('a store that heartbeated is up for downAfterMs, then down, and downFor counts from then', () => {
    const s = store(200_000);
    expect(st.liveness(s, 200_000)).toBe('up');
    expect(st.liveness(s, 200_000 + DOWN)).toBe('up');
    expect(st.downFor(s, 200_000 + DOWN)).toBe(0);
    expect(st.liveness(s, 200_000 + DOWN + 1)).toBe('down');
    expect(st.downFor(s, 200_000 + DOWN + 1)).toBe(1);
    expect(st.downFor(s, 200_000 + DOWN + 60_000)).toBe(60_000);
    expect(st.downFor(s, 200_000)).toBe(0);
  });

  it('a store that has not reported since this PD became leader gets the same grace counted from `since`', () => {
    const s = store(0);
    expect(st.liveness(s, SINCE)).toBe('up');
    expect(st.liveness(s, SINCE + DOWN)).toBe('up');
    expect(st.downFor(s, SINCE + DOWN)).toBe(0);
    expect(st.liveness(s, SINCE + DOWN + 1)).toBe('down');
    expect(st.downFor(s, SINCE + DOWN + 10)).toBe(10);
  });

  it('upStores lists only stores that reported to this leader and are up', () => {
    const now = SINCE + 1_000;
    const s = new ClusterState(DOWN, SINCE);
    s.stores.set(1, { ...store(now - 10), id: 1 });
    s.stores.set(2, { ...store(0), id: 2 }); // in its grace period, but not reported: not a placement target
    s.stores.set(3, { ...store(now - DOWN - 1), id: 3 });
    s.stores.set(4, { ...store(now - DOWN), id: 4 });
    expect(s.upStores(now).map((x) => x.id).sort()).toEqual([1, 4]);
    expect(s.liveness(s.stores.get(2)!, now)).toBe('up');
  });

  it('counts replicas and leaders per store, with zeros for stores holding none', () => {
    const s = new ClusterState(DOWN, SINCE);
    for (const id of [1, 2, 3, 4]) s.stores.set(id, { ...store(SINCE), id });
    s.offer(range(1, '', 'f', 1, 1, [1, 2, 3]));
    s.offer(range(2, 'f', '', 1, 1, [1, 2]));
    s.ranges.get(1)!.leader = 1;
    s.ranges.get(2)!.leader = 1;
    expect(Object.fromEntries(s.replicaCounts())).toEqual({ 1: 2, 2: 2, 3: 1, 4: 0 });
    expect(Object.fromEntries(s.leaderCounts())).toEqual({ 1: 2, 2: 0, 3: 0, 4: 0 });
  });
});
