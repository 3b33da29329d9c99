/**
 * The replicated log as one node sees it: stable entries in storage followed by
 * unstable ones (appended but not yet persisted), plus the commit and apply
 * cursors (etcd's log.go and log_unstable.go, our own code).
 */
import { assert } from '../common/index.js';
import type { LogIndex, Term } from '../common/index.js';
import type { RaftStorage } from './storage.js';
import { limitSize } from './storage.js';
import type { Entry, Snapshot } from './types.js';

/**
 * Entries (and possibly a snapshot) not yet persisted by the host.
 * Invariant: entries[i].index === offset + i; if snapshot is set, offset === snapshot.meta.index + 1.
 */
class Unstable {
  snapshot: Snapshot | undefined;
  entries: Entry[] = [];

  constructor(public offset: LogIndex) {}

  firstIndex(): LogIndex | undefined {
    return this.snapshot ? this.snapshot.meta.index + 1 : undefined;
  }

  lastIndex(): LogIndex | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.meta.index;
  }

  term(i: LogIndex): Term | undefined {
    if (i < this.offset) {
      return this.snapshot && this.snapshot.meta.index === i ? this.snapshot.meta.term : undefined;
    }
    const last = this.lastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset].term;
  }

  /** The host persisted entries up to (index, term): drop them, unless they were since replaced. */
  stableTo(index: LogIndex, term: Term): void {
    const t = this.term(index);
    if (t !== term || index < this.offset) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapTo(index: LogIndex): void {
    if (this.snapshot && this.snapshot.meta.index === index) this.snapshot = undefined;
  }

  restore(snap: Snapshot): void {
    this.offset = snap.meta.index + 1;
    this.entries = [];
    this.snapshot = snap;
  }

  truncateAndAppend(ents: readonly Entry[]): void {
    const after = ents[0].index;
    if (after === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (after <= this.offset) {
      // Replaces everything unstable; storage's conflicting suffix is truncated by the host's append.
      this.offset = after;
      this.entries = ents.slice();
    } else {
      this.entries = this.entries.slice(0, after - this.offset);
      for (const e of ents) this.entries.push(e);
    }
  }

  slice(lo: LogIndex, hi: LogIndex): Entry[] {
    assert(lo >= this.offset && hi <= this.offset + this.entries.length, () => `unstable slice [${lo},${hi}) out of [${this.offset},${this.offset + this.entries.length})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}

export class RaftLog {
  private readonly unstable: Unstable;
  /** Highest index known committed. Invariant: applied <= applying <= committed <= lastIndex(). */
  committed: LogIndex;
  /** Highest index handed to the host for applying (in a Ready not yet advanced). */
  applying: LogIndex;
  /** Highest index the host reported applied. */
  applied: LogIndex;

  constructor(
    readonly storage: RaftStorage,
    private readonly maxApplyBytes: number,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applying = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): LogIndex {
    return this.unstable.firstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): LogIndex {
    return this.unstable.lastIndex() ?? this.storage.lastIndex();
  }

  /** Term of entry i, or undefined if compacted or not (yet) in the log. */
  term(i: LogIndex): Term | undefined {
    // Below firstIndex-1 (the snapshot's index, whose term we keep) the log is compacted.
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return undefined;
    const t = this.unstable.term(i);
    if (t !== undefined) return t;
    return i < this.unstable.offset ? this.storage.term(i) : undefined;
  }

  /** The last index known to be durable (everything before the unstable part). */
  stableLastIndex(): LogIndex {
    return this.unstable.offset - 1;
  }

  lastTerm(): Term {
    const t = this.term(this.lastIndex());
    assert(t !== undefined, 'term of last index unknown');
    return t;
  }

  matchTerm(i: LogIndex, term: Term): boolean {
    return this.term(i) === term;
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: LogIndex, term: Term): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Follower side of MsgApp: if our log matches (index, logTerm), appends
   * `ents` after truncating any conflicting suffix and advances commit.
   * Returns the last index now known to match the leader, or undefined on mismatch.
   */
  maybeAppend(index: LogIndex, logTerm: Term, committed: LogIndex, ents: readonly Entry[]): { lastNew: LogIndex; conflict: LogIndex } | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      assert(conflict > this.committed, () => `conflict at ${conflict} below committed ${this.committed}`);
      this.append(ents.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return { lastNew, conflict };
  }

  /** Appends entries after (possibly) truncating the log at their first index. Returns the new last index. */
  append(ents: readonly Entry[]): LogIndex {
    if (ents.length === 0) return this.lastIndex();
    assert(ents[0].index - 1 >= this.committed, () => `append at ${ents[0].index} would overwrite committed ${this.committed}`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry of `ents` that is not already in our log with
   * the same term (0 if all are). New entries (beyond our last) count as conflicts.
   */
  findConflict(ents: readonly Entry[]): LogIndex {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Fast backtracking: the largest index <= `index` whose term is <= `term`,
   * with that term. A rejected leader can skip straight past everything above it.
   */
  findConflictByTerm(index: LogIndex, term: Term): { index: LogIndex; term: Term } {
    let i = Math.min(index, this.lastIndex());
    for (;;) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 }; // compacted: the leader will fall back to a snapshot if needed
      if (t <= term) return { index: i, term: t };
      i--;
    }
  }

  commitTo(c: LogIndex): void {
    if (c <= this.committed) return;
    assert(c <= this.lastIndex(), () => `commit ${c} beyond last index ${this.lastIndex()}`);
    this.committed = c;
  }

  /** Leader commit rule (Raft §5.4.2, Figure 8): only an entry of the current term commits by counting. */
  maybeCommit(maxIndex: LogIndex, term: Term): boolean {
    if (maxIndex > this.committed && this.term(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  unstableEntries(): readonly Entry[] {
    return this.unstable.entries;
  }

  unstableSnapshot(): Snapshot | undefined {
    return this.unstable.snapshot;
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > this.applying && this.unstable.snapshot === undefined;
  }

  /** Committed entries not yet handed out, bounded by maxApplyBytes. */
  nextCommittedEntries(): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    const lo = Math.max(this.applying + 1, this.firstIndex());
    return this.slice(lo, this.committed + 1, this.maxApplyBytes) ?? [];
  }

  /**
   * Entries [lo, hi) with at most maxBytes of data (at least one), from storage
   * then unstable. Undefined when lo is compacted (the caller sends a snapshot).
   */
  slice(lo: LogIndex, hi: LogIndex, maxBytes: number): Entry[] | undefined {
    if (lo >= hi) return [];
    if (lo < this.firstIndex()) return undefined;
    assert(hi <= this.lastIndex() + 1, () => `slice hi ${hi} beyond last ${this.lastIndex()}`);
    let ents: Entry[] = [];
    const uoff = this.unstable.offset;
    if (lo < uoff) {
      const stable = this.storage.entries(lo, Math.min(hi, uoff), maxBytes);
      if (stable === undefined) return undefined;
      ents = stable;
      // Storage stopped short on size: return what we have.
      if (stable.length < Math.min(hi, uoff) - lo) return ents;
    }
    if (hi > uoff) {
      const u = this.unstable.slice(Math.max(lo, uoff), hi);
      ents = ents.length === 0 ? u : ents.concat(u);
    }
    return limitSize(ents, maxBytes);
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Installs a snapshot received from the leader, discarding the whole log. */
  restore(snap: Snapshot): void {
    this.committed = snap.meta.index;
    this.unstable.restore(snap);
  }

  stableTo(index: LogIndex, term: Term): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: LogIndex): void {
    this.unstable.stableSnapTo(index);
  }

  /** The host handed the Ready's committed entries / snapshot to its state machine. */
  appliedTo(index: LogIndex): void {
    if (index <= this.applied) return;
    assert(index <= this.committed, () => `applied ${index} beyond committed ${this.committed}`);
    this.applied = index;
    if (this.applying < index) this.applying = index;
  }

  acceptApplying(index: LogIndex): void {
    this.applying = index;
  }
}
