/**
 * The read side of stable storage as the core sees it, and an in-memory
 * implementation (used by the simulator, unit tests, and as the cache under the
 * durable log in src/storage).
 *
 * The core only reads storage synchronously; the host writes it (after
 * persisting a Ready) and then calls advance(). Implementations keep every
 * entry after the last snapshot readable without I/O.
 */
import { assert } from '../common/index.js';
import type { LogIndex, NodeId, Term } from '../common/index.js';
import { encodeConfChange } from './conf-change.js';
import type { ConfState, Entry, HardState, Snapshot } from './types.js';
import { EMPTY_HARD_STATE } from './types.js';

export interface InitialState {
  readonly hardState: HardState;
  /** Membership as of the latest snapshot; conf entries after it are found in the log. */
  readonly confState: ConfState;
}

export interface RaftStorage {
  initialState(): InitialState;
  /** Entries in [lo, hi), at least one if any, and no more than maxBytes of data beyond the first. Undefined if lo is compacted. */
  entries(lo: LogIndex, hi: LogIndex, maxBytes: number): Entry[] | undefined;
  /** Term of entry i; undefined if i is compacted (below the snapshot) or beyond lastIndex. */
  term(i: LogIndex): Term | undefined;
  /** Index of the first entry still held (snapshot index + 1). */
  firstIndex(): LogIndex;
  lastIndex(): LogIndex;
  /** The most recent snapshot (index 0 when none). */
  snapshot(): Snapshot;
}

export const EMPTY_CONF: ConfState = { voters: [], learners: [] };

export function entryBytes(e: Entry): number {
  return e.data.byteLength;
}

/** Takes entries from `ents` while their data fits in maxBytes; always at least one. */
export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entryBytes(ents[0]);
  let n = 1;
  while (n < ents.length) {
    size += entryBytes(ents[n]);
    if (size > maxBytes) break;
    n++;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

/**
 * The first entries of a new group: one conf entry per initial voter, at term 1,
 * committed. Every initial member must start from exactly these; nodes added
 * later start empty and receive them (or a snapshot) from the leader, so the
 * membership history is always in the log or in a snapshot.
 */
export function bootstrapEntries(voters: readonly NodeId[]): Entry[] {
  return voters.map((node, i) => ({ term: 1, index: i + 1, type: 'conf', data: encodeConfChange({ kind: 'addVoter', node }) }));
}

/**
 * Invariant: `ents[0]` is a dummy whose index/term are the snapshot's, so
 * ents[i].index === snapshot.meta.index + i.
 */
export class MemoryStorage implements RaftStorage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot;
  private ents: Entry[];

  /**
   * `conf` is a membership in force from index 0, for tests of a fixed group.
   * A group whose membership will change must use `MemoryStorage.bootstrap`:
   * a node added later would never learn an index-0 membership.
   */
  constructor(conf: ConfState = EMPTY_CONF) {
    this.snap = { meta: { index: 0, term: 0, conf }, data: new Uint8Array(0) };
    this.ents = [dummy(0, 0)];
  }

  static bootstrap(voters: readonly NodeId[]): MemoryStorage {
    const st = new MemoryStorage();
    const ents = bootstrapEntries(voters);
    st.append(ents);
    st.setHardState({ term: 1, vote: 0, commit: ents.length });
    return st;
  }

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.snap.meta.conf };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  entries(lo: LogIndex, hi: LogIndex, maxBytes: number): Entry[] | undefined {
    const offset = this.ents[0].index;
    if (lo <= offset) return undefined;
    assert(hi <= this.lastIndex() + 1, () => `entries hi ${hi} beyond last ${this.lastIndex()}`);
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  term(i: LogIndex): Term | undefined {
    const offset = this.ents[0].index;
    if (i < offset || i > this.lastIndex()) return undefined;
    return this.ents[i - offset].term;
  }

  firstIndex(): LogIndex {
    return this.ents[0].index + 1;
  }

  lastIndex(): LogIndex {
    return this.ents[0].index + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole log with a received snapshot. */
  applySnapshot(snap: Snapshot): void {
    if (snap.meta.index <= this.snap.meta.index) return;
    this.snap = snap;
    this.ents = [dummy(snap.meta.index, snap.meta.term)];
  }

  /** Records a snapshot the host took of its state machine at `index` (<= applied). */
  createSnapshot(index: LogIndex, conf: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.meta.index) return this.snap;
    const term = this.term(index);
    assert(term !== undefined, () => `snapshot index ${index} beyond last ${this.lastIndex()}`);
    this.snap = { meta: { index, term, conf }, data };
    return this.snap;
  }

  /** Discards entries up to and including `index` (which must be covered by a snapshot or applied). */
  compact(index: LogIndex): void {
    const offset = this.ents[0].index;
    if (index <= offset) return;
    assert(index <= this.lastIndex(), () => `compact ${index} beyond last ${this.lastIndex()}`);
    const i = index - offset;
    const rest = this.ents.slice(i + 1);
    this.ents = [dummy(this.ents[i].index, this.ents[i].term), ...rest];
  }

  /** Appends entries, truncating any conflicting suffix first. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0].index + entries.length - 1;
    if (last < first) return;
    // Entries already compacted away are skipped.
    const ents = first > entries[0].index ? entries.slice(first - entries[0].index) : entries;
    const offset = ents[0].index - this.ents[0].index;
    assert(offset <= this.ents.length, () => `missing log entry before ${ents[0].index}, last ${this.lastIndex()}`);
    if (offset < this.ents.length) this.ents.length = offset;
    for (const e of ents) this.ents.push(e);
  }
}

function dummy(index: LogIndex, term: Term): Entry {
  return { index, term, type: 'normal', data: new Uint8Array(0) };
}
