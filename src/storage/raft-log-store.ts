/**
 * Durable Raft storage of ONE group over an Engine that many groups share.
 *
 * Reads are synchronous (the core never waits on disk): they are served from
 * an in-memory copy, a MemoryStorage, of the hard state, the snapshot
 * metadata and every log entry after the snapshot, loaded and validated at
 * open. Not ideal: the whole uncompacted log is held in memory, so a group
 * that never compacts grows without bound; fine while the host compacts
 * regularly (a snapshot every few thousand entries). A bounded entry cache
 * with asynchronous fetches (raft-rs's LogTemporarilyUnavailable) is the
 * later step.
 *
 * Writes are two-phase, so that one fsync covers many groups (group commit):
 *   stage(batch, rd)    puts this group's part of a Ready into a shared batch;
 *   batch.write(engine) the host writes the batch once, for every group;
 *   onPersisted(rd)     only now does the cache (what the core reads) change.
 * stageCompaction / onCompacted are the same two phases for log compaction.
 *
 * Snapshot DATA belongs to the state machine (the store streams it from its
 * own keys); only a snapshot's metadata is kept here.
 */
import { assert } from '../common/index.js';
import type { LogIndex, NodeId, Term } from '../common/index.js';
import type { ConfState, Entry, HardState, InitialState, RaftStorage, Ready, Snapshot, SnapshotMeta } from '../raft/index.js';
import { bootstrapEntries, EMPTY_CONF, EMPTY_HARD_STATE, MemoryStorage } from '../raft/index.js';
import { decodeEntry, decodeHardState, decodeSnapshotMeta, encodeEntry, encodeHardState, encodeSnapshotMeta } from './codec.js';
import type { Engine } from './engine.js';
import { StorageCorruption } from './errors.js';
import { describeKey, raftHardStateKey, raftLogBounds, raftLogIndex, raftLogKey, snapshotMetaKey } from './keys.js';
import type { WriteBatch } from './write-batch.js';

const EMPTY = new Uint8Array(0);

/** What one Ready asks this group to persist; a Ready itself fits. */
/** Index (and term) of a new range replica's initial snapshot; see stageInitialSnapshot. */
export const INITIAL_LOG_INDEX = 5;

export interface LogWrites {
  readonly snapshot?: Snapshot | undefined;
  readonly entries: readonly Entry[];
  readonly hardState?: HardState | undefined;
  /** False only when losing these writes to a machine crash is harmless (Ready.mustSync). Default true. */
  readonly mustSync?: boolean;
}

export class DurableRaftStorage implements RaftStorage {
  /**
   * The log as it will be on disk once every batch staged so far is written:
   * entries (stagedSnapIndex, stagedLastIndex] and snapshot metadata at
   * stagedSnapIndex. Invariant: equal to the cache's snapshot index and last
   * index whenever nothing is staged and unpersisted; never behind them.
   * Staging works from these, not from the cache, so two changes staged
   * before either is persisted still delete exactly the right keys.
   */
  private stagedSnapIndex: LogIndex;
  private stagedLastIndex: LogIndex;

  private constructor(
    readonly group: number,
    /** Invariant: holds only what is durable (or in a batch already written). */
    private readonly cache: MemoryStorage,
  ) {
    this.stagedSnapIndex = cache.snapshot().meta.index;
    this.stagedLastIndex = cache.lastIndex();
  }

  /**
   * Loads and validates a group's Raft state (a group never written loads
   * empty). Throws StorageCorruption rather than hand the core a log that
   * breaks Raft's invariants.
   */
  static async open(engine: Engine, group: number): Promise<DurableRaftStorage> {
    const hsKey = raftHardStateKey(group);
    const hsBytes = await engine.get(hsKey);
    const hs = hsBytes ? decodeHardState(hsBytes, hsKey) : EMPTY_HARD_STATE;
    const metaKey = snapshotMetaKey(group);
    const metaBytes = await engine.get(metaKey);
    const meta: SnapshotMeta = metaBytes ? decodeSnapshotMeta(metaBytes, metaKey) : { index: 0, term: 0, conf: EMPTY_CONF };

    const entries = await loadLog(engine, group, meta);
    const last = entries.at(-1) ?? meta;
    const corrupt = (detail: string) => new StorageCorruption(describeKey(hsKey), hsKey, detail);
    // Commit only ever covers entries that were durable first (the Ready contract).
    if (hs.commit > last.index) throw corrupt(`commit ${hs.commit} beyond last index ${last.index}`);
    // A node takes a term before it accepts entries of that term, in the same batch (Raft §5.1).
    if (hs.term < last.term) throw corrupt(`term ${hs.term} below the log's last term ${last.term}`);

    const cache = new MemoryStorage();
    if (meta.index > 0) cache.applySnapshot({ meta, data: EMPTY });
    cache.append(entries);
    cache.setHardState(hs);
    return new DurableRaftStorage(group, cache);
  }

  /**
   * Stages the initial state of a range replica: a snapshot at index
   * INITIAL_LOG_INDEX with the given voters and no log. A replica added to the
   * group later finds no entries before it and so is always initialised by a
   * snapshot of the range's state, never by replaying a log that may predate
   * the range (a range made by a split inherits data but not the log that
   * wrote it; TiKV's RAFT_INIT_LOG_INDEX does the same).
   */
  stageInitialSnapshot(batch: WriteBatch, voters: readonly NodeId[]): LogWrites {
    assert(this.stagedLastIndex === 0 && this.initialState().hardState.term === 0, () => `group ${this.group} initialised twice`);
    const meta = { index: INITIAL_LOG_INDEX, term: INITIAL_LOG_INDEX, conf: { voters: [...voters].sort((a, b) => a - b), learners: [] } };
    const rd: LogWrites = { snapshot: { meta, data: EMPTY }, entries: [], hardState: { term: INITIAL_LOG_INDEX, vote: 0, commit: INITIAL_LOG_INDEX } };
    this.stage(batch, rd);
    return rd;
  }

  /** Stages the first entries of a brand-new group (see bootstrapEntries); persist it like any Ready. */
  stageBootstrap(batch: WriteBatch, voters: readonly NodeId[]): Ready {
    assert(this.stagedLastIndex === 0 && this.initialState().hardState.term === 0, () => `group ${this.group} bootstrapped twice`);
    const entries = bootstrapEntries(voters);
    const hardState = { term: 1, vote: 0, commit: entries.length };
    const rd: Ready = { softState: undefined, hardState, entries, snapshot: undefined, committedEntries: [], messages: [], readStates: [], mustSync: true };
    this.stage(batch, rd);
    return rd;
  }

  /**
   * Stages what a Ready asks to persist, in the Ready's order (snapshot, then
   * entries, then hard state), into a batch other groups share. The core sees
   * none of it until `onPersisted(rd)`, called once the batch is written.
   */
  stage(batch: WriteBatch, rd: LogWrites): void {
    const g = this.group;
    if (rd.snapshot) {
      const { meta } = rd.snapshot;
      assert(meta.index > this.stagedSnapIndex, () => `group ${g}: snapshot ${meta.index} not after snapshot ${this.stagedSnapIndex}`);
      batch.put(snapshotMetaKey(g), encodeSnapshotMeta(meta));
      // A snapshot replaces the whole log (as MemoryStorage.applySnapshot does).
      this.stageLogDeletes(batch, this.stagedSnapIndex + 1, this.stagedLastIndex);
      this.stagedSnapIndex = meta.index;
      this.stagedLastIndex = meta.index;
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0].index;
      const last = rd.entries[rd.entries.length - 1].index;
      assert(first <= this.stagedLastIndex + 1, () => `group ${g}: entries from ${first} leave a gap after ${this.stagedLastIndex}`);
      // Entries at or below the snapshot are already compacted away (as MemoryStorage.append skips them).
      for (const e of rd.entries) if (e.index > this.stagedSnapIndex) batch.put(raftLogKey(g, e.index), encodeEntry(e));
      if (last > this.stagedSnapIndex) {
        // A conflicting suffix beyond the new entries must not come back after a restart (Raft §5.3).
        this.stageLogDeletes(batch, last + 1, this.stagedLastIndex);
        this.stagedLastIndex = last;
      }
    }
    if (rd.hardState) {
      const { commit } = rd.hardState;
      assert(commit <= this.stagedLastIndex, () => `group ${g}: commit ${commit} beyond last index ${this.stagedLastIndex}`);
      batch.put(raftHardStateKey(g), encodeHardState(rd.hardState));
    }
    if (rd.mustSync !== false) batch.sync = true;
  }

  /** The batch holding `rd` (staged by `stage`) is written: make it visible to the core. */
  onPersisted(rd: LogWrites): void {
    if (rd.snapshot) this.cache.applySnapshot({ meta: rd.snapshot.meta, data: EMPTY });
    this.cache.append(rd.entries);
    if (rd.hardState) this.cache.setHardState(rd.hardState);
  }

  /**
   * Log compaction (Raft §7): records a snapshot the host took at `index`
   * (<= applied) with membership `conf`, and stages the deletion of the log
   * up to it. Recording the metadata and deleting happen together because the
   * log on disk must always start right after the snapshot. Returns undefined
   * when there is nothing to compact (already covered, or not in the log);
   * otherwise call `onCompacted(meta)` once the batch is written.
   */
  stageCompaction(batch: WriteBatch, index: LogIndex, conf: ConfState): SnapshotMeta | undefined {
    if (index <= this.stagedSnapIndex) return undefined;
    // Applied entries are committed, so never truncated: the cache's term is final.
    const term = this.cache.term(index);
    if (term === undefined) return undefined;
    const meta: SnapshotMeta = { index, term, conf };
    batch.put(snapshotMetaKey(this.group), encodeSnapshotMeta(meta));
    this.stageLogDeletes(batch, this.stagedSnapIndex + 1, index);
    this.stagedSnapIndex = index;
    return meta;
  }

  onCompacted(meta: SnapshotMeta): void {
    this.cache.createSnapshot(meta.index, meta.conf, EMPTY);
    this.cache.compact(meta.index);
  }

  private stageLogDeletes(batch: WriteBatch, from: LogIndex, to: LogIndex): void {
    for (let i = from; i <= to; i++) batch.del(raftLogKey(this.group, i));
  }

  // ---- RaftStorage (synchronous, from the cache) ----

  initialState(): InitialState {
    return this.cache.initialState();
  }

  entries(lo: LogIndex, hi: LogIndex, maxBytes: number): Entry[] | undefined {
    return this.cache.entries(lo, hi, maxBytes);
  }

  term(i: LogIndex): Term | undefined {
    return this.cache.term(i);
  }

  firstIndex(): LogIndex {
    return this.cache.firstIndex();
  }

  lastIndex(): LogIndex {
    return this.cache.lastIndex();
  }

  snapshot(): Snapshot {
    return this.cache.snapshot();
  }
}

/**
 * The entries after the snapshot, checked: each decodes, sits under its own
 * index, follows the previous one without a gap, and has a term no lower.
 */
async function loadLog(engine: Engine, group: number, meta: SnapshotMeta): Promise<Entry[]> {
  const entries: Entry[] = [];
  let prev: { index: LogIndex; term: Term } = meta;
  // Entries at or below the snapshot index were deleted in the batch that wrote the snapshot.
  const { gte, lt } = raftLogBounds(group, meta.index + 1);
  for await (const [key, value] of engine.range(gte, lt)) {
    const corrupt = (detail: string) => new StorageCorruption(describeKey(key), key, detail);
    const index = raftLogIndex(key);
    const e = decodeEntry(value, key);
    if (e.index !== index) throw corrupt(`holds entry ${e.index}`);
    if (index !== prev.index + 1) throw corrupt(`gap: entries ${prev.index + 1}..${index - 1} are missing`);
    if (e.term < prev.term) throw corrupt(`term ${e.term} after term ${prev.term}`);
    entries.push(e);
    prev = e;
  }
  return entries;
}
