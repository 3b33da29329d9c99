/**
 * Durable Raft storage of ONE group over a shared Engine. Reads are served
 * synchronously from an in-memory copy (a MemoryStorage) of everything after
 * the last snapshot, loaded and validated at open; writes are staged into a
 * WriteBatch that many groups share, and reach the cache only once the batch
 * is durable (`onPersisted`).
 *
 * Not ideal: the whole uncompacted log is held in memory. That is fine while
 * the host compacts regularly (a snapshot every few thousand entries); a
 * bounded entry cache with asynchronous fetches is the later step.
 *
 * Snapshot DATA belongs to the state machine (the store streams it from its
 * own keys); only the snapshot's metadata is kept here.
 */
import type { ConfState, HardState, RaftStorage, Ready, Snapshot, SnapshotMeta } from '../raft/index.js';
import { bootstrapEntries, EMPTY_CONF, EMPTY_HARD_STATE, MemoryStorage } from '../raft/index.js';
import type { Entry, InitialState } from '../raft/index.js';
import { decodeEntry, decodeHardState, decodeSnapshotMeta, encodeEntry, encodeHardState, encodeSnapshotMeta, StorageCorruption } from './codec.js';
import type { Engine } from './engine.js';
import { raftHardStateKey, raftLogBounds, raftLogIndex, raftLogKey, snapshotMetaKey } from './keys.js';
import type { WriteBatch } from './write-batch.js';

const EMPTY = new Uint8Array(0);

export class DurableRaftStorage implements RaftStorage {
  private constructor(
    readonly group: number,
    private readonly cache: MemoryStorage,
  ) {}

  /** Loads and validates a group's Raft state; throws StorageCorruption rather than use bad data. */
  static async open(engine: Engine, group: number): Promise<DurableRaftStorage> {
    const hsBytes = await engine.get(raftHardStateKey(group));
    const hs: HardState = hsBytes ? decodeHardState(hsBytes) : EMPTY_HARD_STATE;
    const metaBytes = await engine.get(snapshotMetaKey(group));
    const meta: SnapshotMeta = metaBytes ? decodeSnapshotMeta(metaBytes) : { index: 0, term: 0, conf: EMPTY_CONF };

    const entries: Entry[] = [];
    const { gte, lt } = raftLogBounds(group);
    let expected = meta.index + 1;
    let lastTerm = meta.term;
    for await (const [key, value] of engine.range(gte, lt)) {
      const keyIndex = raftLogIndex(key);
      if (keyIndex <= meta.index) continue; // covered by the snapshot (compaction is best effort)
      const what = `log entry ${keyIndex} of group ${group}`;
      const e = decodeEntry(value, what);
      if (e.index !== keyIndex) throw new StorageCorruption(what, `holds index ${e.index}`);
      if (e.index !== expected) throw new StorageCorruption(what, `gap: expected index ${expected}`);
      if (e.term < lastTerm) throw new StorageCorruption(what, `term ${e.term} after term ${lastTerm}`);
      entries.push(e);
      expected++;
      lastTerm = e.term;
    }
    const last = expected - 1;
    if (hs.commit > last) throw new StorageCorruption(`hard state of group ${group}`, `commit ${hs.commit} beyond last index ${last}`);
    if (hs.term < lastTerm) throw new StorageCorruption(`hard state of group ${group}`, `term ${hs.term} below log term ${lastTerm}`);

    const cache = new MemoryStorage();
    if (meta.index > 0) cache.applySnapshot({ meta, data: EMPTY });
    cache.append(entries);
    cache.setHardState(hs);
    return new DurableRaftStorage(group, cache);
  }

  /** Stages the first entries of a brand-new group (see bootstrapEntries). */
  stageBootstrap(batch: WriteBatch, voters: readonly number[]): Ready {
    const entries = bootstrapEntries(voters);
    const hardState = { term: 1, vote: 0, commit: entries.length };
    const rd: Ready = { softState: undefined, hardState, entries, snapshot: undefined, committedEntries: [], messages: [], readStates: [], mustSync: true };
    this.stage(batch, rd);
    return rd;
  }

  /** Stages what a Ready asks to persist (snapshot, then entries, then hard state) into a shared batch. */
  stage(batch: WriteBatch, rd: Pick<Ready, 'snapshot' | 'entries' | 'hardState' | 'mustSync'>): void {
    const g = this.group;
    let last = this.cache.lastIndex();
    if (rd.snapshot) {
      batch.put(snapshotMetaKey(g), encodeSnapshotMeta(rd.snapshot.meta));
      for (let i = this.cache.firstIndex(); i <= last; i++) batch.del(raftLogKey(g, i));
      last = rd.snapshot.meta.index;
    }
    if (rd.entries.length > 0) {
      for (const e of rd.entries) batch.put(raftLogKey(g, e.index), encodeEntry(e));
      // A conflicting suffix beyond the new entries must not survive a restart.
      const newLast = rd.entries[rd.entries.length - 1].index;
      for (let i = newLast + 1; i <= last; i++) batch.del(raftLogKey(g, i));
    }
    if (rd.hardState) batch.put(raftHardStateKey(g), encodeHardState(rd.hardState));
    if (rd.mustSync) batch.sync = true;
  }

  /** The batch holding a staged Ready is durable: make it visible to the core. */
  onPersisted(rd: Pick<Ready, 'snapshot' | 'entries' | 'hardState'>): void {
    if (rd.snapshot) this.cache.applySnapshot(rd.snapshot);
    this.cache.append(rd.entries);
    if (rd.hardState) this.cache.setHardState(rd.hardState);
  }

  /**
   * Records a snapshot the host took at `index` (<= applied) and stages the
   * deletion of the log up to it. Call `onCompacted` once the batch is durable.
   */
  stageCompaction(batch: WriteBatch, index: number, conf: ConfState): SnapshotMeta | undefined {
    const term = this.cache.term(index);
    if (term === undefined || index <= this.cache.snapshot().meta.index) return undefined;
    const meta: SnapshotMeta = { index, term, conf };
    batch.put(snapshotMetaKey(this.group), encodeSnapshotMeta(meta));
    for (let i = this.cache.firstIndex(); i <= index; i++) batch.del(raftLogKey(this.group, i));
    return meta;
  }

  onCompacted(meta: SnapshotMeta, data: Uint8Array = EMPTY): void {
    this.cache.createSnapshot(meta.index, meta.conf, data);
    this.cache.compact(meta.index);
  }

  hardState(): HardState {
    return this.cache.initialState().hardState;
  }

  // ---- RaftStorage (synchronous, from the cache) ----

  initialState(): InitialState {
    return this.cache.initialState();
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] | undefined {
    return this.cache.entries(lo, hi, maxBytes);
  }

  term(i: number): number | undefined {
    return this.cache.term(i);
  }

  firstIndex(): number {
    return this.cache.firstIndex();
  }

  lastIndex(): number {
    return this.cache.lastIndex();
  }

  snapshot(): Snapshot {
    return this.cache.snapshot();
  }
}
