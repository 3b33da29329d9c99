/**
 * One range replica on a store: its RawNode and durable Raft log, its
 * descriptor, the client writes and reads waiting on it, and its quiescence.
 * The Store's event loop drives it; this class never does I/O by itself except
 * reading the engine during apply.
 */
import type { Message, Ready } from '../raft/index.js';
import { DEFAULT_CONFIG, RawNode } from '../raft/index.js';
import { NotLeaderError, OutcomeUnknownError, UnavailableError } from '../common/index.js';
import type { DbError, Rng } from '../common/index.js';
import type { DurableRaftStorage, Engine, WriteBatch } from '../storage/index.js';
import { keys } from '../storage/index.js';
import type { Entry, EntryResult, SplitCommand, TxnEntry } from './command.js';
import { decodeEntry, decodeResult, encodeResult, encodeSplit, encodeTxnEntry, ROTATE_DEDUP } from './command.js';
import type { Timestamp } from '../common/index.js';
import type { TxnCommand } from '../txn/index.js';
import { applyTxnCommand, MvccTxn, OK } from '../txn/index.js';
import type { ApplyView } from './apply-view.js';
import { MetaCache } from './meta-cache.js';
import { encodeApplyState } from '../storage/index.js';
import { containsKey, encodeDescriptor, storeOfReplica, withMembership } from '../replica/index.js';
import { splitDescriptors, splitRejection, stageSplit } from './split.js';
import type { RangeDescriptor } from '../common/index.js';

/** What applying a split asks of the store: open the right half's replica. */
export interface ApplyHost {
  /** The replica of `rangeId` on this store, if any. */
  hasReplica(rangeId: number): boolean;
  /** A fresh durable Raft storage for a new group (to stage its bootstrap). */
  openStorage(rangeId: number): Promise<DurableRaftStorage>;
}

export interface Waiter<T> {
  resolve(v: T): void;
  reject(e: Error): void;
}

/** A write's waiter, stamped when the write is proposed (monotonic ms; for the proposal-to-apply histogram). */
export interface WriteWaiter extends Waiter<EntryResult> {
  proposedAt: number;
}

const encoder = new TextEncoder();
const NONE: readonly number[] = [];
const STALE: EntryResult = { stale: true };

/** The keys a command touches (empty for the range-wide ones); all must lie in the range for it to apply. */
function keysOf(cmd: TxnCommand): readonly Uint8Array[] {
  switch (cmd.kind) {
    case 'kvWrite':
      return [cmd.key];
    case 'prewrite':
      return cmd.mutations.map((m) => m.key);
    case 'commit':
    case 'rollback':
    case 'resolveLock':
      return cmd.keys;
    case 'checkTxnStatus':
    case 'heartbeat':
      return [cmd.primary];
    case 'gc':
      return [];
  }
}

/** The metadata keys the entries will read: fetched for a whole turn in one call. */
export function metaKeysOf(entries: readonly (Entry | undefined)[]): Uint8Array[] {
  return entries.flatMap((d) => (d?.kind === 'txn' ? keysOf(d.entry.cmd).map(keys.metaKey) : []));
}

/**
 * Commands whose retries are answered from an exactly-once record: a
 * one-phase commit, and a `/kv` write without a timestamp. A `/kv` write with
 * one needs no record: its retry (same timestamp) finds its own version by
 * that timestamp (see kv-write.ts).
 */
const needsExactlyOnce = (cmd: TxnCommand): boolean => (cmd.kind === 'kvWrite' && cmd.ts === 0n) || (cmd.kind === 'prewrite' && cmd.onePc);

/** Commands stamped with the leader's read floor at proposal (they commit at a timestamp the leader picks). */
export const needsFloor = (cmd: TxnCommand): boolean => cmd.kind === 'kvWrite' || (cmd.kind === 'prewrite' && cmd.onePc);

export class Replica {
  readonly raw: RawNode;
  /** Writes accepted this turn, proposed together at the next flush. */
  private queuedWrites: { cmd: TxnEntry | SplitCommand; waiter: WriteWaiter }[] = [];
  /** Right halves created by splits applied this turn: the store opens their replicas after the apply batch. */
  readonly createdBySplit: RangeDescriptor[] = [];
  /** Set when this replica applied its own removal: the store destroys it after the apply batch. */
  removed = false;
  /** Destroyed: no longer in the store's maps; nothing may schedule or persist it again. */
  destroyed = false;
  /**
   * Exactly-once records live in generations: a retry is looked up in the
   * current and the previous one; applying a rotate starts a new generation
   * and drops the one before the previous. The leader rotates about once a
   * minute while the range takes writes, so a record lives at least a minute
   * (a gateway retries for 10 s) and the table stays bounded.
   */
  dedupGeneration = 0;
  writesSinceRotate = 0;
  ticksSinceRotate = 0;
  /** Proposed writes awaiting apply, by request id. */
  private readonly inflight = new Map<string, WriteWaiter>();
  /**
   * The highest timestamp a snapshot read was served at while this replica
   * led: a `/kv` write or one-phase commit proposed now must commit above it
   * (TiKV's max_ts). A new leader does not know its predecessor's reads, so it
   * first takes a fresh TSO timestamp (syncedTerm records for which term).
   */
  maxReadTs: Timestamp = 0n;
  syncedTerm = 0;
  private syncWaiters: Waiter<void>[] = [];
  /** Reads accepted this turn: one ReadIndex round serves them all. */
  private queuedReads: Waiter<void>[] = [];
  /** The queued reads must also wait for everything proposed before they arrived (snapshot reads: see maxReadTs). */
  private queuedReadsNeedProposed = false;
  /** Read rounds by context, with when each started (monotonic ms). */
  private readonly readRounds = new Map<string, { waiters: Waiter<void>[]; startedAt: number; minIndex: number }>();
  private readsAwaitingApply: { index: number; waiters: Waiter<void>[]; startedAt: number }[] = [];
  private readSeq = 0;
  /** Index up to which the state machine (the engine) reflects the log. */
  applied: number;
  quiesced = false;
  /** Ticks the leader has been idle with every follower caught up. */
  private idleTicks = 0;
  /** A snapshot received over the Snapshot stream, waiting to be installed with its Raft state. */
  incomingSnapshot: { index: number; desc: RangeDescriptor; pairs: [Uint8Array, Uint8Array][]; done: Waiter<void> } | undefined;
  /** Peers a snapshot is being streamed to. */
  readonly sendingSnapshotTo = new Set<number>();
  /** Key metadata as of the last written turn (see meta-cache.ts). */
  readonly metaCache = new MetaCache();
  /** Log compaction requested by the tick; done inside the next loop turn. */
  compactTo = 0;

  constructor(
    readonly desc: { current: RangeDescriptor },
    readonly replicaId: number,
    readonly storage: DurableRaftStorage,
    applied: number,
    rng: Rng,
    electionTick: number,
  ) {
    this.applied = applied;
    this.raw = new RawNode({ ...DEFAULT_CONFIG, id: replicaId, applied, electionTick, maxInflightMsgs: 64 }, storage, rng);
  }

  get rangeId(): number {
    return this.desc.current.id;
  }

  isLeader(): boolean {
    return this.raw.role === 'leader';
  }

  leaderStore(): number {
    const lead = this.raw.lead;
    return lead === 0 ? 0 : storeOfReplica(lead);
  }

  hasWork(): boolean {
    return this.queuedWrites.length > 0 || this.queuedReads.length > 0;
  }

  write(cmd: TxnEntry | SplitCommand): Promise<EntryResult> {
    this.wake();
    return new Promise((resolve, reject) => this.queuedWrites.push({ cmd, waiter: { resolve, reject, proposedAt: 0 } }));
  }

  /**
   * Resolves once a linearizable read of this range's data may be served
   * locally. With `afterProposed`, also once every write proposed before the
   * call has applied: a snapshot read raises maxReadTs, and a write proposed
   * earlier was stamped with the floor before it.
   */
  readBarrier(afterProposed = false): Promise<void> {
    this.wake();
    this.queuedReadsNeedProposed ||= afterProposed;
    return new Promise((resolve, reject) => this.queuedReads.push({ resolve, reject }));
  }

  /** Whether this leader knows a floor above every read its predecessors served. */
  get tsSynced(): boolean {
    return this.syncedTerm === this.raw.term;
  }

  /** Resolves once tsSynced (the store asks the TSO on each new leadership). */
  awaitTsSync(): Promise<void> {
    if (this.tsSynced) return Promise.resolve();
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  /** A TSO timestamp taken after this replica became leader in `term`. */
  onTsSynced(term: number, ts: Timestamp): void {
    if (!this.isLeader() || this.raw.term !== term) return;
    if (ts > this.maxReadTs) this.maxReadTs = ts;
    this.syncedTerm = term;
    for (const w of this.syncWaiters.splice(0)) w.resolve();
  }

  /** A snapshot read at ts is being served: later single-step commits land above it. */
  observeRead(ts: Timestamp): void {
    if (ts > this.maxReadTs) this.maxReadTs = ts;
  }

  /** Proposes the writes and starts the read round accumulated this turn; `now` is the loop turn's monotonic clock reading. */
  flushRequests(now: number): void {
    if (this.queuedWrites.length > 0) {
      let batch = this.queuedWrites;
      this.queuedWrites = [];
      if (!this.tsSynced && batch.some((w) => 'cmd' in w.cmd && needsFloor(w.cmd.cmd))) {
        // Leadership moved since the service awaited the sync: refused before the log, nothing applied.
        const unsynced = new UnavailableError(`range ${this.rangeId}: the leader has not synced its timestamp floor yet`);
        for (const w of batch) if ('cmd' in w.cmd && needsFloor(w.cmd.cmd)) w.waiter.reject(unsynced);
        batch = batch.filter((w) => !('cmd' in w.cmd && needsFloor(w.cmd.cmd)));
      }
      this.writesSinceRotate += batch.length;
      const res = this.raw.proposeBatch(batch.map((w) => ('splitKey' in w.cmd ? encodeSplit(w.cmd) : encodeTxnEntry(this.stampFloor(w.cmd)))));
      if (res.kind === 'ok') {
        for (const w of batch) {
          w.waiter.proposedAt = now;
          this.inflight.set(w.cmd.requestId, w.waiter);
        }
      } else {
        // Refused before entering the log: nothing can apply.
        const err = res.kind === 'notLeader' ? new NotLeaderError(res.leader ? storeOfReplica(res.leader) : 0) : new UnavailableError(res.reason);
        for (const w of batch) w.waiter.reject(err);
      }
    }
    if (this.queuedReads.length > 0) {
      const ctx = `${this.rangeId}/${++this.readSeq}`;
      const minIndex = this.queuedReadsNeedProposed ? this.raw.lastIndex : 0;
      this.readRounds.set(ctx, { waiters: this.queuedReads, startedAt: now, minIndex });
      this.queuedReads = [];
      this.queuedReadsNeedProposed = false;
      this.raw.readIndex(encoder.encode(ctx));
    }
  }

  /** The entry as proposed now: a command that commits at a timestamp of the leader's choosing carries the read floor. */
  private stampFloor(e: TxnEntry): TxnEntry {
    const c = e.cmd;
    if (c.kind === 'kvWrite' || (c.kind === 'prewrite' && c.onePc)) return { ...e, cmd: { ...c, floor: this.maxReadTs } };
    return e;
  }

  /**
   * Leadership changed: what we promised as leader can no longer be confirmed
   * here. A proposed write may still commit under the next leader, so its
   * outcome is unknown; a read round applied nothing.
   */
  onSoftState(rd: Ready): void {
    if (!rd.softState || rd.softState.role === 'leader') return;
    const lost = new OutcomeUnknownError(`leadership moved (to store ${this.leaderStore()}) before the write applied`);
    for (const w of this.inflight.values()) w.reject(lost);
    this.inflight.clear();
    const err = new NotLeaderError(this.leaderStore());
    for (const round of this.readRounds.values()) for (const w of round.waiters) w.reject(err);
    this.readRounds.clear();
    for (const w of this.syncWaiters.splice(0)) w.reject(err);
  }

  /** The Ready's committed entries, decoded once (undefined for conf changes and empty entries). */
  decodeCommitted(rd: Ready): (Entry | undefined)[] {
    return rd.committedEntries.map((e) => (e.type !== 'conf' && e.data.byteLength > 0 ? decodeEntry(e.data) : undefined));
  }

  /**
   * Applies committed entries through the turn's view into its batch (data,
   * dedup records, applied index, descriptor changes). Returns the results to
   * hand out once the batch is written.
   */
  async apply(rd: Ready, entries: readonly (Entry | undefined)[], view: ApplyView, engine: Engine, batch: WriteBatch, host: ApplyHost): Promise<[WriteWaiter, EntryResult][]> {
    const done: [WriteWaiter, EntryResult][] = [];
    if (rd.snapshot) {
      // Installed by the store in the persist batch (see Store.stageSnapshotInstall).
      this.applied = rd.snapshot.meta.index;
      if (this.incomingSnapshot?.index === rd.snapshot.meta.index) {
        this.desc.current = this.incomingSnapshot.desc;
        const marker = keys.dedupGenerationKey(this.rangeId);
        const gen = this.incomingSnapshot.pairs.find(([k]) => Buffer.compare(k, marker) === 0);
        this.dedupGeneration = gen ? decodeGeneration(gen[1]) : 0;
      }
    }
    if (rd.committedEntries.length === 0) return done;
    for (const [i, e] of rd.committedEntries.entries()) {
      if (e.type === 'conf') {
        // Term-1 conf entries are the bootstrap membership, which the descriptor already states.
        if (e.term === 1) {
          this.applied = e.index;
          continue;
        }
        this.desc.current = withMembership(this.desc.current, this.raw.confStateAt(e.index));
        batch.put(keys.rangeDescriptorKey(this.rangeId), encodeDescriptor(this.desc.current));
        if (!this.desc.current.replicas.some((r) => r.replicaId === this.replicaId)) this.removed = true;
      } else if (e.data.byteLength > 0) {
        const entry = entries[i]!;
        let result: EntryResult;
        let id: string;
        if (entry.kind === 'rotate') {
          await this.applyRotate(engine, batch);
          this.applied = e.index;
          continue;
        } else if (entry.kind === 'split') {
          id = entry.split.requestId;
          result = await this.applySplit(entry.split, engine, batch, view, host);
        } else {
          id = entry.entry.requestId;
          result = await this.applyTxn(entry.entry, view);
        }
        const waiter = this.inflight.get(id);
        if (waiter) {
          this.inflight.delete(id);
          done.push([waiter, result]);
        }
      }
      this.applied = e.index;
    }
    batch.put(keys.applyStateKey(this.rangeId), encodeApplyState(this.applied));
    return done;
  }

  /** A transactional command: looked up first when it is a retry of one that applies at most once. */
  private async applyTxn(entry: TxnEntry, view: ApplyView): Promise<EntryResult> {
    const desc = this.desc.current;
    // Proposed before a split moved a key to another range: that range applies the retry.
    if (!keysOf(entry.cmd).every((k) => containsKey(desc, k))) return STALE;
    const once = needsExactlyOnce(entry.cmd);
    const id = once ? encoder.encode(entry.requestId) : undefined;
    const dedup = id ? keys.dedupKey(this.rangeId, this.dedupGeneration, id) : undefined;
    if (id && dedup && entry.retry) {
      const seen = (await view.get(dedup)) ?? (this.dedupGeneration > 0 ? await view.get(keys.dedupKey(this.rangeId, this.dedupGeneration - 1, id)) : undefined);
      if (seen) return { stale: false, result: decodeResult(seen) };
    }
    const result = await applyTxnCommand(new MvccTxn(view, view), entry.cmd, desc, entry.retry);
    // Only what applied is remembered: a refusal (locked, a stale timestamp) is asked again.
    if (dedup && result.kind === 'ok') view.put(dedup, encodeResult(result));
    return { stale: false, result };
  }

  private async applySplit(cmd: SplitCommand, engine: Engine, batch: WriteBatch, view: ApplyView, host: ApplyHost): Promise<EntryResult> {
    if (splitRejection(this.desc.current, cmd) !== undefined) return STALE;
    const { left, right } = splitDescriptors(this.desc.current, cmd);
    this.desc.current = left;
    // A replica of the right half already here came by snapshot and is newer: keep it.
    if (!host.hasReplica(right.id)) {
      await stageSplit(engine, batch, left, right, await host.openStorage(right.id));
      // Exactly-once records written earlier in this same batch are not in the engine yet.
      const { gte, lt } = keys.dedupBounds(this.rangeId);
      for (const [k, v] of view.stagedIn(gte, lt)) batch.put(keys.dedupKeyForGroup(k, right.id), v);
      this.createdBySplit.push(right);
    } else {
      batch.put(keys.rangeDescriptorKey(left.id), encodeDescriptor(left));
    }
    return { stale: false, result: OK };
  }

  private async applyRotate(engine: Engine, batch: WriteBatch): Promise<void> {
    // Every replica counts from the last rotation applied, so a new leader does not rotate again right away.
    this.ticksSinceRotate = 0;
    this.dedupGeneration++;
    batch.put(keys.dedupGenerationKey(this.rangeId), encodeGeneration(this.dedupGeneration));
    if (this.dedupGeneration < 2) return;
    const { gte, lt } = keys.dedupGenerationBounds(this.rangeId, 0, this.dedupGeneration - 1);
    for await (const [k] of engine.range(gte, lt)) batch.del(k);
  }

  /** Leader, from the tick: time for a new generation of exactly-once records? */
  maybeRotateDedup(everyTicks: number): boolean {
    if (++this.ticksSinceRotate < everyTicks || this.writesSinceRotate === 0 || !this.isLeader()) return false;
    this.ticksSinceRotate = 0;
    this.writesSinceRotate = 0;
    return this.raw.propose(ROTATE_DEDUP).kind === 'ok';
  }

  /** Read rounds confirmed by the Ready; they complete once applied catches up. */
  collectReadStates(rd: Ready): void {
    for (const rs of rd.readStates) {
      const ctx = new TextDecoder().decode(rs.ctx);
      const round = this.readRounds.get(ctx);
      if (!round) continue;
      this.readRounds.delete(ctx);
      this.readsAwaitingApply.push({ index: Math.max(rs.index, round.minIndex), waiters: round.waiters, startedAt: round.startedAt });
    }
  }

  /** Releases the reads whose round's index is applied; returns when each released round started. */
  releaseReads(): readonly number[] {
    if (this.readsAwaitingApply.length === 0) return NONE;
    const ready = this.readsAwaitingApply.filter((r) => r.index <= this.applied);
    this.readsAwaitingApply = this.readsAwaitingApply.filter((r) => r.index > this.applied);
    for (const r of ready) for (const w of r.waiters) w.resolve();
    return ready.map((r) => r.startedAt);
  }

  /** Rejects everything waiting (the replica is closing or destroyed); proposed writes with an unknown outcome. */
  failAll(err: DbError): void {
    for (const w of this.queuedWrites) w.waiter.reject(err);
    this.queuedWrites = [];
    const unknown = new OutcomeUnknownError(`${err.message} before the write applied`);
    for (const w of this.inflight.values()) w.reject(unknown);
    this.inflight.clear();
    for (const w of this.queuedReads) w.reject(err);
    this.queuedReads = [];
    for (const round of this.readRounds.values()) for (const w of round.waiters) w.reject(err);
    this.readRounds.clear();
    for (const r of this.readsAwaitingApply) for (const w of r.waiters) w.reject(err);
    this.readsAwaitingApply = [];
  }

  // ---- quiescence -------------------------------------------------------------

  wake(): void {
    this.quiesced = false;
    this.idleTicks = 0;
  }

  /**
   * A leader with nothing in flight and every follower caught up stops ticking
   * (its last heartbeats carry the quiesce flag so followers stop too).
   * Returns true when this tick should send quiescing heartbeats.
   */
  tickQuiesce(): boolean {
    const s = this.raw.status();
    if (s.role !== 'leader' || this.inflight.size > 0 || this.readRounds.size > 0 || this.readsAwaitingApply.length > 0) {
      this.idleTicks = 0;
      return false;
    }
    const caughtUp = s.commit === s.lastIndex && this.applied === s.commit && [...s.progress.values()].every((p) => p.match === s.lastIndex);
    this.idleTicks = caughtUp ? this.idleTicks + 1 : 0;
    return this.idleTicks >= 3;
  }

  /** A follower told by its leader that the range is idle stops ticking, if it holds everything. */
  maybeQuiesceFollower(m: Message): void {
    if (m.kind !== 'heartbeat') return;
    const s = this.raw.status();
    if (s.role === 'follower' && s.lead === m.from && s.commit === s.lastIndex && m.commit === s.commit) this.quiesced = true;
  }
}

export function encodeGeneration(gen: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, gen);
  return out;
}

export function decodeGeneration(bytes: Uint8Array): number {
  if (bytes.byteLength !== 4) throw new Error(`bad dedup generation record of ${bytes.byteLength} bytes`);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
}
