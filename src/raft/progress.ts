/**
 * The leader's view of one follower: how much of the log it holds and how the
 * leader is feeding it (etcd's tracker/progress.go, our own code).
 *
 *  probe:     next is a guess; one MsgApp at a time until the follower's reply
 *             tells us where the logs match (sent on each heartbeat interval).
 *  replicate: logs match up to `match`; MsgApps are sent optimistically
 *             (pipelined) up to the inflight window.
 *  snapshot:  the follower needs entries we compacted; we sent a snapshot and
 *             wait for it to be applied (or reported failed).
 */
import { assert } from '../common/index.js';
import type { LogIndex } from '../common/index.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/**
 * A bounded FIFO of the last index of each MsgApp in flight, with their bytes.
 * Invariant: indices are increasing; count <= maxCount.
 */
export class Inflights {
  private readonly idx: Float64Array;
  private readonly bytes: Float64Array;
  private start = 0;
  count = 0;
  private totalBytes = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
  ) {
    this.idx = new Float64Array(maxCount);
    this.bytes = new Float64Array(maxCount);
  }

  add(index: LogIndex, bytes: number): void {
    assert(this.count < this.maxCount, 'inflights overflow');
    const slot = (this.start + this.count) % this.maxCount;
    this.idx[slot] = index;
    this.bytes[slot] = bytes;
    this.count++;
    this.totalBytes += bytes;
  }

  /** Frees every message whose last index is <= `index` (acknowledged). */
  freeLE(index: LogIndex): void {
    while (this.count > 0 && this.idx[this.start] <= index) {
      this.totalBytes -= this.bytes[this.start];
      this.start = (this.start + 1) % this.maxCount;
      this.count--;
    }
    if (this.count === 0) this.totalBytes = 0;
  }

  /** Frees the oldest message (used when its acknowledgement was probably lost). */
  freeFirstOne(): void {
    if (this.count > 0) this.freeLE(this.idx[this.start]);
  }

  full(): boolean {
    return this.count >= this.maxCount || this.totalBytes >= this.maxBytes;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.totalBytes = 0;
  }
}

export class Progress {
  /** Highest index known to be replicated on the follower. Invariant: match < next. */
  match: LogIndex = 0;
  /** Next index to send. */
  next: LogIndex;
  state: ProgressState = 'probe';
  /** In probe state: a MsgApp was sent and no reply arrived since the last heartbeat. */
  probeSent = false;
  /** In snapshot state: index of the snapshot being sent. */
  pendingSnapshot: LogIndex = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** Lease reads: the send tick of the latest heartbeat this follower acknowledged. */
  leaseAckTick = -Infinity;
  readonly inflights: Inflights;

  constructor(next: LogIndex, maxInflight: number, maxInflightBytes: number, public isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflight, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, the follower holds at least the snapshot; probe from there.
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: LogIndex): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** An acknowledgement up to `n`; false if it told us nothing new (stale or duplicate). */
  maybeUpdate(n: LogIndex): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /** Records an optimistic send of entries up to `last` (replicate state). */
  sentEntries(last: LogIndex, bytes: number): void {
    if (this.state === 'replicate') {
      this.next = last + 1;
      this.inflights.add(last, bytes);
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /**
   * A rejection of the MsgApp at `rejected`; `hint` is the follower's guess at
   * the last index that can match. False if the rejection is stale.
   */
  maybeDecrTo(rejected: LogIndex, hint: LogIndex): boolean {
    if (this.state === 'replicate') {
      // Stale unless it rejects the entry right after our match.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // Probe: only the reply to the one outstanding probe counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
