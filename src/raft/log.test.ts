/**
 * RaftLog: the follower's consistency check and truncation (Raft §5.3), the
 * leader's commit rule (§5.4.2), fast backtracking hints, the storage/unstable
 * split, snapshots (§7). Table-driven, after etcd-io/raft's log_test.go.
 */
import { describe, expect, it } from 'vitest';
import { RaftLog } from './log.js';
import { MemoryStorage } from './storage.js';
import type { Entry, Snapshot } from './types.js';

const e = (index: number, term: number, size = 0): Entry => ({ index, term, type: 'normal', data: new Uint8Array(size) });
const ids = (ents: readonly Entry[]) => ents.map((x) => [x.index, x.term]);

/** A log whose entries are all stable (in storage). */
function stableLog(ents: readonly Entry[], maxApply = Infinity): { log: RaftLog; st: MemoryStorage } {
  const st = new MemoryStorage({ voters: [1], learners: [] });
  st.append(ents);
  return { log: new RaftLog(st, maxApply), st };
}

/** All terms the log reports from index `lo` to `hi` inclusive. */
function terms(log: RaftLog, lo: number, hi: number): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (let i = lo; i <= hi; i++) out.push(log.term(i));
  return out;
}

describe('RaftLog.findConflict (§5.3)', () => {
  const prev = [e(1, 1), e(2, 2), e(3, 3)];
  it.each([
    { ents: [], want: 0 },
    // no conflict, all already there
    { ents: [e(1, 1), e(2, 2), e(3, 3)], want: 0 },
    { ents: [e(2, 2), e(3, 3)], want: 0 },
    { ents: [e(3, 3)], want: 0 },
    // no conflict, but new entries
    { ents: [e(1, 1), e(2, 2), e(3, 3), e(4, 4), e(5, 4)], want: 4 },
    { ents: [e(2, 2), e(3, 3), e(4, 4), e(5, 4)], want: 4 },
    { ents: [e(3, 3), e(4, 4), e(5, 4)], want: 4 },
    { ents: [e(4, 4), e(5, 4)], want: 4 },
    // conflicts with existing entries
    { ents: [e(1, 4), e(2, 4)], want: 1 },
    { ents: [e(2, 1), e(3, 4), e(4, 4)], want: 2 },
    { ents: [e(3, 1), e(4, 2), e(5, 4), e(6, 4)], want: 3 },
  ])('entries $ents.length from %# → $want', ({ ents, want }) => {
    expect(stableLog(prev).log.findConflict(ents)).toBe(want);
  });
});

describe('RaftLog.maybeAppend (§5.3 consistency check, truncation, follower commit)', () => {
  // previous log [1:1, 2:2, 3:3], committed 1
  it.each([
    // The consistency check fails: nothing changes.
    { index: 3, logTerm: 2, commit: 3, ents: [e(4, 4)], want: undefined, wantCommit: 1, wantTerms: [1, 2, 3] },
    { index: 4, logTerm: 3, commit: 3, ents: [e(5, 4)], want: undefined, wantCommit: 1, wantTerms: [1, 2, 3] },
    // Matches the last entry: commit moves to min(leaderCommit, lastNew) and never backwards.
    { index: 3, logTerm: 3, commit: 3, ents: [], want: 3, wantCommit: 3, wantTerms: [1, 2, 3] },
    { index: 3, logTerm: 3, commit: 4, ents: [], want: 3, wantCommit: 3, wantTerms: [1, 2, 3] },
    { index: 3, logTerm: 3, commit: 2, ents: [], want: 3, wantCommit: 2, wantTerms: [1, 2, 3] },
    { index: 3, logTerm: 3, commit: 0, ents: [], want: 3, wantCommit: 1, wantTerms: [1, 2, 3] },
    { index: 3, logTerm: 3, commit: 3, ents: [e(4, 4)], want: 4, wantCommit: 3, wantTerms: [1, 2, 3, 4] },
    { index: 3, logTerm: 3, commit: 4, ents: [e(4, 4)], want: 4, wantCommit: 4, wantTerms: [1, 2, 3, 4] },
    { index: 3, logTerm: 3, commit: 5, ents: [e(4, 4)], want: 4, wantCommit: 4, wantTerms: [1, 2, 3, 4] },
    { index: 3, logTerm: 3, commit: 5, ents: [e(4, 4), e(5, 4)], want: 5, wantCommit: 5, wantTerms: [1, 2, 3, 4, 4] },
    // Matches an earlier entry: the conflicting suffix is replaced.
    { index: 2, logTerm: 2, commit: 3, ents: [e(3, 4)], want: 3, wantCommit: 3, wantTerms: [1, 2, 4] },
    { index: 2, logTerm: 2, commit: 4, ents: [e(3, 4), e(4, 4)], want: 4, wantCommit: 4, wantTerms: [1, 2, 4, 4] },
    { index: 1, logTerm: 1, commit: 4, ents: [e(2, 4)], want: 2, wantCommit: 2, wantTerms: [1, 4] },
    { index: 1, logTerm: 1, commit: 4, ents: [e(2, 4), e(3, 4)], want: 3, wantCommit: 3, wantTerms: [1, 4, 4] },
    // Already present: no truncation, and a shorter (stale) MsgApp must not cut the log.
    { index: 1, logTerm: 1, commit: 3, ents: [e(2, 2)], want: 2, wantCommit: 2, wantTerms: [1, 2, 3] },
    { index: 0, logTerm: 0, commit: 1, ents: [e(1, 1)], want: 1, wantCommit: 1, wantTerms: [1, 2, 3] },
  ])('(index $index, logTerm $logTerm, commit $commit, +$ents.length) → $want / commit $wantCommit', ({ index, logTerm, commit, ents, want, wantCommit, wantTerms }) => {
    for (const where of ['storage', 'unstable'] as const) {
      const prev = [e(1, 1), e(2, 2), e(3, 3)];
      let log: RaftLog;
      if (where === 'storage') log = stableLog(prev).log;
      else {
        log = new RaftLog(new MemoryStorage({ voters: [1], learners: [] }), Infinity);
        log.append(prev);
      }
      log.commitTo(1);
      const res = log.maybeAppend(index, logTerm, commit, ents);
      expect(res?.lastNew, where).toBe(want);
      expect(log.committed, where).toBe(wantCommit);
      expect(terms(log, 1, log.lastIndex()), where).toEqual(wantTerms);
    }
  });

  it('refuses (asserts) to truncate a committed entry', () => {
    const { log } = stableLog([e(1, 1), e(2, 2), e(3, 3)]);
    log.commitTo(2);
    expect(() => log.maybeAppend(1, 1, 3, [e(2, 4)])).toThrow(/committed/);
    expect(terms(log, 1, 3)).toEqual([1, 2, 3]);
  });

  it('refuses to commit beyond the last index', () => {
    const { log } = stableLog([e(1, 1)]);
    expect(() => log.commitTo(2)).toThrow();
  });
});

describe('RaftLog.maybeCommit: only an entry of the current term commits by counting (§5.4.2)', () => {
  // log [1:1, 2:2, 3:3, 4:3], committed 1
  it.each([
    { maxIndex: 2, term: 3, ok: false, commit: 1 }, // a majority holds an older-term entry: not enough (Figure 8)
    { maxIndex: 2, term: 2, ok: true, commit: 2 },
    { maxIndex: 3, term: 3, ok: true, commit: 3 },
    { maxIndex: 4, term: 3, ok: true, commit: 4 },
    { maxIndex: 4, term: 4, ok: false, commit: 1 },
    { maxIndex: 1, term: 1, ok: false, commit: 1 }, // not beyond committed
    { maxIndex: 5, term: 3, ok: false, commit: 1 }, // not in the log
  ])('maybeCommit($maxIndex, term $term) → $ok, commit $commit', ({ maxIndex, term, ok, commit }) => {
    const { log } = stableLog([e(1, 1), e(2, 2), e(3, 3), e(4, 3)]);
    log.commitTo(1);
    expect(log.maybeCommit(maxIndex, term)).toBe(ok);
    expect(log.committed).toBe(commit);
  });
});

describe('RaftLog.isUpToDate (§5.4.1 election restriction)', () => {
  // our last entry: index 3, term 2
  it.each([
    { index: 2, term: 3, want: true }, // higher last term wins regardless of length
    { index: 1, term: 3, want: true },
    { index: 3, term: 2, want: true },
    { index: 4, term: 2, want: true },
    { index: 2, term: 2, want: false }, // same term, shorter
    { index: 10, term: 1, want: false }, // longer but older term
    { index: 0, term: 0, want: false },
  ])('candidate last ($index, $term) → $want', ({ index, term, want }) => {
    expect(stableLog([e(1, 1), e(2, 2), e(3, 2)]).log.isUpToDate(index, term)).toBe(want);
  });
});

describe('RaftLog.findConflictByTerm (fast backtracking hint)', () => {
  it.each([
    { index: 100, term: 2, want: { index: 2, term: 2 } }, // beyond our log: start at our last
    { index: 5, term: 6, want: { index: 5, term: 5 } },
    { index: 5, term: 5, want: { index: 5, term: 5 } },
    { index: 5, term: 4, want: { index: 2, term: 2 } },
    { index: 5, term: 2, want: { index: 2, term: 2 } },
    { index: 5, term: 1, want: { index: 0, term: 0 } },
    { index: 1, term: 2, want: { index: 1, term: 2 } },
    { index: 1, term: 1, want: { index: 0, term: 0 } },
    { index: 0, term: 0, want: { index: 0, term: 0 } },
  ])('log [2,2,5,5,5]: ($index, $term) → $want', ({ index, term, want }) => {
    const { log } = stableLog([e(1, 2), e(2, 2), e(3, 5), e(4, 5), e(5, 5)]);
    expect(log.findConflictByTerm(index, term)).toEqual(want);
  });

  it.each([
    { index: 30, term: 3, want: { index: 13, term: 3 } },
    { index: 14, term: 9, want: { index: 14, term: 4 } },
    { index: 14, term: 4, want: { index: 14, term: 4 } },
    { index: 14, term: 3, want: { index: 13, term: 3 } },
    { index: 10, term: 3, want: { index: 10, term: 3 } }, // the snapshot's own term is known
    { index: 14, term: 2, want: { index: 9, term: 0 } }, // runs into the compacted prefix
  ])('compacted at 10 (term 3), log 11..15 [3,3,3,4,4]: ($index, $term) → $want', ({ index, term, want }) => {
    const st = new MemoryStorage({ voters: [1], learners: [] });
    st.applySnapshot({ meta: { index: 10, term: 3, conf: { voters: [1], learners: [] } }, data: new Uint8Array(0) });
    st.append([e(11, 3), e(12, 3), e(13, 3), e(14, 4), e(15, 4)]);
    const log = new RaftLog(st, Infinity);
    expect(log.findConflictByTerm(index, term)).toEqual(want);
  });
});

describe('RaftLog.slice across the storage/unstable boundary', () => {
  /** Entries 1..5 in storage, 6..10 unstable, 10 bytes each. */
  function split(): RaftLog {
    const { log } = stableLog([1, 2, 3, 4, 5].map((i) => e(i, 1, 10)));
    log.append([6, 7, 8, 9, 10].map((i) => e(i, 2, 10)));
    return log;
  }
  it.each([
    { lo: 1, hi: 11, max: Infinity, want: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] },
    { lo: 3, hi: 8, max: Infinity, want: [3, 4, 5, 6, 7] },
    { lo: 6, hi: 9, max: Infinity, want: [6, 7, 8] },
    { lo: 3, hi: 3, max: Infinity, want: [] },
    { lo: 3, hi: 8, max: 0, want: [3] }, // at least one entry even if it is too big
    { lo: 7, hi: 9, max: 0, want: [7] },
    { lo: 3, hi: 8, max: 25, want: [3, 4] },
    { lo: 4, hi: 8, max: 25, want: [4, 5] },
    { lo: 5, hi: 8, max: 25, want: [5, 6] }, // limit applies across the boundary
    { lo: 5, hi: 8, max: 30, want: [5, 6, 7] },
    { lo: 4, hi: 8, max: 30, want: [4, 5, 6] },
    { lo: 6, hi: 9, max: 15, want: [6] },
  ])('slice($lo, $hi, $max) → $want', ({ lo, hi, max, want }) => {
    const got = split().slice(lo, hi, max);
    expect(got?.map((x) => x.index)).toEqual(want);
  });

  it('returns undefined below the first index (compacted: the caller sends a snapshot)', () => {
    const { log, st } = stableLog([1, 2, 3, 4, 5].map((i) => e(i, 1, 10)));
    st.createSnapshot(2, { voters: [1], learners: [] }, new Uint8Array(0));
    st.compact(2);
    expect(log.firstIndex()).toBe(3);
    expect(log.slice(2, 5, Infinity)).toBeUndefined();
    expect(log.slice(1, 5, Infinity)).toBeUndefined();
    expect(log.slice(3, 5, Infinity)?.map((x) => x.index)).toEqual([3, 4]);
    expect(log.term(2)).toBe(1); // the snapshot's term is still known
    expect(log.term(1)).toBeUndefined();
  });

  it('asserts when slicing beyond the last index', () => {
    expect(() => split().slice(9, 12, Infinity)).toThrow();
  });

  it('nextCommittedEntries hands out at most maxCommittedSizePerReady bytes (at least one entry)', () => {
    const { log } = stableLog([1, 2, 3, 4, 5].map((i) => e(i, 1, 10)), 25);
    log.commitTo(5);
    const batches: number[][] = [];
    while (log.hasNextCommittedEntries()) {
      const b = log.nextCommittedEntries();
      batches.push(b.map((x) => x.index));
      log.acceptApplying(b[b.length - 1].index);
    }
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
    log.appliedTo(5);
    expect(log.applied).toBe(5);
  });
});

describe('RaftLog.restore (§7 InstallSnapshot) and stableTo', () => {
  const snap: Snapshot = { meta: { index: 10, term: 4, conf: { voters: [1], learners: [] } }, data: new Uint8Array([7]) };

  it('discards the log and continues after the snapshot', () => {
    const { log, st } = stableLog([e(1, 1), e(2, 1), e(3, 2), e(4, 2), e(5, 3)]);
    log.commitTo(3);
    log.restore(snap);
    expect(log.committed).toBe(10);
    expect(log.firstIndex()).toBe(11);
    expect(log.lastIndex()).toBe(10);
    expect(log.lastTerm()).toBe(4);
    expect(log.term(10)).toBe(4);
    expect(log.term(5)).toBeUndefined();
    expect(log.unstableSnapshot()).toBe(snap);
    expect(log.snapshot()).toBe(snap);
    // Entries are not applied from a log that is being replaced by a snapshot.
    expect(log.hasNextCommittedEntries()).toBe(false);
    expect(log.nextCommittedEntries()).toEqual([]);
    // The host persists it.
    st.applySnapshot(snap);
    log.stableSnapTo(10);
    log.appliedTo(10);
    expect(log.unstableSnapshot()).toBeUndefined();
    expect(log.firstIndex()).toBe(11);
    expect(log.term(10)).toBe(4);
    expect(log.maybeAppend(10, 4, 11, [e(11, 4)])?.lastNew).toBe(11);
    expect(log.committed).toBe(11);
    expect(log.unstableEntries().map((x) => x.index)).toEqual([11]);
  });

  it.each([
    { name: 'all persisted', unstable: [e(1, 1)], at: [1, 1], left: [] as number[][] },
    { name: 'prefix persisted', unstable: [e(1, 1), e(2, 1)], at: [1, 1], left: [[2, 1]] },
    { name: 'term mismatch (the entry was replaced)', unstable: [e(1, 1)], at: [1, 2], left: [[1, 1]] },
    { name: 'beyond the unstable entries', unstable: [e(1, 1)], at: [2, 1], left: [[1, 1]] },
  ])('stableTo: $name', ({ unstable, at, left }) => {
    const log = new RaftLog(new MemoryStorage({ voters: [1], learners: [] }), Infinity);
    log.append(unstable);
    log.stableTo(at[0], at[1]);
    expect(ids(log.unstableEntries())).toEqual(left);
  });

  it('stableTo of a batch that was since replaced keeps the replacement unstable', () => {
    const st = new MemoryStorage({ voters: [1], learners: [] });
    const log = new RaftLog(st, Infinity);
    log.append([e(1, 1), e(2, 1), e(3, 1)]);
    const batch = log.unstableEntries().slice(); // handed to the host in a Ready
    // Before the host reports it persisted, a new leader overwrites from index 2.
    log.append([e(2, 2)]);
    expect(ids(log.unstableEntries())).toEqual([
      [1, 1],
      [2, 2],
    ]);
    st.append(batch);
    log.stableTo(3, 1); // index 3 no longer exists
    log.stableTo(2, 1); // index 2 has another term now
    expect(ids(log.unstableEntries())).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(log.term(2)).toBe(2);
    expect(log.lastIndex()).toBe(2);
    log.stableTo(1, 1);
    expect(ids(log.unstableEntries())).toEqual([[2, 2]]);
    expect(log.term(1)).toBe(1);
    expect(log.term(2)).toBe(2); // still the unstable one, not storage's stale (2,1)
    expect(log.term(3)).toBeUndefined();
  });

  it('append after a truncation below the unstable offset replaces storage entries in reads', () => {
    const { log } = stableLog([e(1, 1), e(2, 1), e(3, 1)]);
    log.append([e(2, 3), e(3, 3), e(4, 3)]);
    expect(terms(log, 1, 4)).toEqual([1, 3, 3, 3]);
    expect(log.slice(1, 5, Infinity)?.map((x) => [x.index, x.term])).toEqual([
      [1, 1],
      [2, 3],
      [3, 3],
      [4, 3],
    ]);
  });
});
