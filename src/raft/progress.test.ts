/**
 * The leader's per-follower replication state (etcd's tracker tests, our own
 * code): the inflight window, probe/replicate/snapshot transitions, backing off
 * on rejections (Raft §5.3 "decrements nextIndex and retries").
 */
import { describe, expect, it } from 'vitest';
import { Inflights, Progress } from './progress.js';
import type { ProgressState } from './progress.js';

function pr(state: ProgressState, match: number, next: number, opts: { maxInflight?: number; pending?: number } = {}): Progress {
  const p = new Progress(next, opts.maxInflight ?? 4, Infinity, false);
  p.match = match;
  if (state === 'replicate') p.becomeReplicate();
  if (state === 'snapshot') p.becomeSnapshot(opts.pending ?? 0);
  p.next = next;
  return p;
}

/** Drains an Inflights by freeing one at a time, returning the indices in FIFO order. */
function drain(inf: Inflights): number[] {
  const out: number[] = [];
  // freeLE(i) for increasing i reveals the order without peeking at internals.
  for (let i = 0; inf.count > 0 && i < 1000; i++) {
    const before = inf.count;
    inf.freeLE(i);
    for (let k = 0; k < before - inf.count; k++) out.push(i);
  }
  return out;
}

describe('Inflights', () => {
  it('fills up to its count, frees by acknowledged index, and wraps around the ring', () => {
    const inf = new Inflights(10, Infinity);
    for (let i = 0; i < 5; i++) inf.add(i, 1);
    expect(inf.count).toBe(5);
    expect(inf.full()).toBe(false);
    for (let i = 5; i < 10; i++) inf.add(i, 1);
    expect(inf.full()).toBe(true);
    expect(() => inf.add(10, 1)).toThrow(/overflow/);

    inf.freeLE(4);
    expect(inf.count).toBe(5);
    expect(inf.full()).toBe(false);
    // Wraps around the ring buffer.
    for (let i = 10; i < 15; i++) inf.add(i, 1);
    expect(inf.full()).toBe(true);
    inf.freeLE(8);
    expect(inf.count).toBe(6);
    inf.freeLE(8); // idempotent
    expect(inf.count).toBe(6);
    inf.freeLE(3); // stale ack frees nothing
    expect(inf.count).toBe(6);
    expect(drain(inf)).toEqual([9, 10, 11, 12, 13, 14]);
  });

  it('freeFirstOne frees exactly the oldest message', () => {
    const inf = new Inflights(4, Infinity);
    inf.add(3, 1);
    inf.add(7, 1);
    inf.add(9, 1);
    inf.freeFirstOne();
    expect(inf.count).toBe(2);
    expect(drain(inf)).toEqual([7, 9]);
    inf.freeFirstOne(); // empty: no-op
    expect(inf.count).toBe(0);
  });

  it('is full by bytes as well as by count', () => {
    const inf = new Inflights(10, 100);
    inf.add(1, 60);
    expect(inf.full()).toBe(false);
    inf.add(2, 50);
    expect(inf.full()).toBe(true);
    inf.freeLE(1);
    expect(inf.full()).toBe(false);
    inf.freeLE(2);
    inf.add(3, 99);
    expect(inf.full()).toBe(false);
  });

  it('reset empties it', () => {
    const inf = new Inflights(2, Infinity);
    inf.add(1, 1);
    inf.add(2, 1);
    inf.reset();
    expect(inf.count).toBe(0);
    expect(inf.full()).toBe(false);
    inf.add(5, 1);
    expect(drain(inf)).toEqual([5]);
  });
});

describe('Progress state transitions', () => {
  it.each([
    { from: 'replicate' as const, match: 5, next: 10, pending: 0, wantNext: 6 },
    { from: 'probe' as const, match: 5, next: 10, pending: 0, wantNext: 6 },
    // Leaving snapshot: the follower holds at least the snapshot.
    { from: 'snapshot' as const, match: 1, next: 2, pending: 10, wantNext: 11 },
    { from: 'snapshot' as const, match: 15, next: 16, pending: 10, wantNext: 16 },
  ])('becomeProbe from $from (match $match, pending $pending) → next $wantNext', ({ from, match, next, pending, wantNext }) => {
    const p = pr(from, match, next, { pending });
    p.becomeProbe();
    expect(p.state).toBe('probe');
    expect(p.next).toBe(wantNext);
    expect(p.pendingSnapshot).toBe(0);
    expect(p.probeSent).toBe(false);
  });

  it('becomeReplicate resumes right after match with an empty window', () => {
    const p = pr('probe', 5, 9);
    p.becomeReplicate();
    expect(p.state).toBe('replicate');
    expect(p.next).toBe(6);
    expect(p.inflights.count).toBe(0);
  });

  it('becomeSnapshot records the snapshot index and pauses', () => {
    const p = pr('replicate', 5, 9);
    p.sentEntries(9, 1);
    p.becomeSnapshot(20);
    expect(p.state).toBe('snapshot');
    expect(p.pendingSnapshot).toBe(20);
    expect(p.inflights.count).toBe(0);
    expect(p.isPaused()).toBe(true);
  });

  it.each([
    { match: 3, next: 5, n: 2, updated: false, wantMatch: 3, wantNext: 5 }, // stale
    { match: 3, next: 5, n: 3, updated: false, wantMatch: 3, wantNext: 5 }, // duplicate
    { match: 3, next: 5, n: 4, updated: true, wantMatch: 4, wantNext: 5 },
    { match: 3, next: 5, n: 5, updated: true, wantMatch: 5, wantNext: 6 },
    { match: 3, next: 5, n: 9, updated: true, wantMatch: 9, wantNext: 10 },
  ])('maybeUpdate($n) at match $match next $next → $updated', ({ match, next, n, updated, wantMatch, wantNext }) => {
    const p = pr('probe', match, next);
    p.probeSent = true;
    expect(p.maybeUpdate(n)).toBe(updated);
    expect(p.match).toBe(wantMatch);
    expect(p.next).toBe(wantNext);
    if (updated) expect(p.probeSent).toBe(false);
  });

  it.each([
    // replicate: only a rejection of something above match counts; back to match+1
    { state: 'replicate' as const, match: 5, next: 10, rejected: 5, hint: 5, ok: false, wantNext: 10 },
    { state: 'replicate' as const, match: 5, next: 10, rejected: 4, hint: 4, ok: false, wantNext: 10 },
    { state: 'replicate' as const, match: 5, next: 10, rejected: 9, hint: 9, ok: true, wantNext: 6 },
    { state: 'replicate' as const, match: 5, next: 10, rejected: 7, hint: 2, ok: true, wantNext: 6 },
    // probe: only the reply to the outstanding probe (next-1) counts
    { state: 'probe' as const, match: 0, next: 0, rejected: 0, hint: 0, ok: false, wantNext: 0 },
    { state: 'probe' as const, match: 5, next: 10, rejected: 5, hint: 5, ok: false, wantNext: 10 },
    { state: 'probe' as const, match: 5, next: 10, rejected: 10, hint: 10, ok: false, wantNext: 10 },
    { state: 'probe' as const, match: 5, next: 10, rejected: 9, hint: 9, ok: true, wantNext: 9 },
    { state: 'probe' as const, match: 0, next: 2, rejected: 1, hint: 1, ok: true, wantNext: 1 },
    { state: 'probe' as const, match: 0, next: 1, rejected: 0, hint: 0, ok: true, wantNext: 1 },
    { state: 'probe' as const, match: 0, next: 10, rejected: 9, hint: 2, ok: true, wantNext: 3 }, // jumps with the hint
    { state: 'probe' as const, match: 0, next: 10, rejected: 9, hint: 0, ok: true, wantNext: 1 },
    { state: 'probe' as const, match: 5, next: 10, rejected: 9, hint: 2, ok: true, wantNext: 6 }, // never at or below match
    { state: 'probe' as const, match: 0, next: 10, rejected: 9, hint: 50, ok: true, wantNext: 9 }, // never at or above the rejected
  ])('maybeDecrTo in $state (match $match, next $next): rejected $rejected hint $hint → $ok, next $wantNext', ({ state, match, next, rejected, hint, ok, wantNext }) => {
    const p = pr(state, match, next);
    if (state === 'probe') p.probeSent = true;
    expect(p.maybeDecrTo(rejected, hint)).toBe(ok);
    expect(p.next).toBe(wantNext);
    expect(p.match).toBe(match);
    if (ok && state === 'probe') expect(p.probeSent).toBe(false);
  });

  it('isPaused: probe after one send, replicate when the window is full, always in snapshot', () => {
    const probe = pr('probe', 0, 1);
    expect(probe.isPaused()).toBe(false);
    probe.sentEntries(3, 10);
    expect(probe.isPaused()).toBe(true);
    expect(probe.next).toBe(1); // a probe does not move next optimistically

    const rep = pr('replicate', 0, 1, { maxInflight: 2 });
    rep.sentEntries(3, 10);
    expect(rep.next).toBe(4);
    expect(rep.isPaused()).toBe(false);
    rep.sentEntries(5, 10);
    expect(rep.next).toBe(6);
    expect(rep.isPaused()).toBe(true);
    expect(rep.maybeUpdate(3)).toBe(true);
    rep.inflights.freeLE(3);
    expect(rep.isPaused()).toBe(false);

    expect(pr('snapshot', 0, 1, { pending: 5 }).isPaused()).toBe(true);
  });
});
