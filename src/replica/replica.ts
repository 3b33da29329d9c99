/**
 * One range replica: its RawNode and durable Raft log, its descriptor, the
 * client writes and reads waiting on it, its apply into the engine with
 * exactly-once records, and its quiescence. The Ready loop (ready-loop.ts)
 * drives it; this class never does I/O by itself except reading the engine
 * at open and during apply.
 *
 * The log's framing (command.ts: client commands, splits, rotations) and
 * membership changes are the replica's; what a client command does to the
 * engine is its state machine's (state-machine.ts), which the host provides:
 * the store's is MVCC.
 */
import type { Message, RaftConfig, Ready } from '../raft/index.js';
import { DEFAULT_CONFIG, RawNode } from '../raft/index.js';
import { NotLeaderError, OutcomeUnknownError, UnavailableError } from '../common/index.js';
import type { DbError, Rng } from '../common/index.js';
import type { Engine, WriteBatch } from '../storage/index.js';
import { decodeApplyState, DurableRaftStorage, encodeApplyState, keys } from '../storage/index.js';
import type { CommandEntry, Entry, EntryResult, SplitCommand } from './command.js';
import { decodeEntry, encodeCommandEntry, encodeSplit, ROTATE_DEDUP } from './command.js';
import { containsKey, encodeDescriptor, storeOfReplica, withMembership } from './range-descriptor.js';
import { splitDescriptors, splitRejection, stageSplit } from './split.js';
import type { ApplyView, RangeStateMachine } from './state-machine.js';
import { isRefusal } from './state-machine.js';
import type { RangeDescriptor } from '../common/index.js';

/** What applying a split asks of the host: whether the right half is already here, and storage for it. */
export interface ApplyHost {
  /** Whether this host already has a replica of `rangeId`. */
  hasReplica(rangeId: number): boolean;
  /** A fresh durable Raft storage for a new group (to stage its bootstrap). */
  openStorage(rangeId: number): Promise<DurableRaftStorage>;
}

export interface Waiter<T> {
  resolve(v: T): void;
  reject(e: Error): void;
}

/**
 * A write's waiter, stamped when the write is proposed: when (monotonic ms;
 * for the proposal-to-apply histogram), and the log position of its entry.
 */
export interface WriteWaiter<R = unknown> extends Waiter<EntryResult<R>> {
  proposedAt: number;
  /**
   * Its entry's index and term: only that entry answers it. An earlier entry
   * of the same request (a client's attempt that reached an earlier leader)
   * may apply first, and its result is not this one's when the state machine
   * keeps no record of it (a refusal is evaluated again).
   */
  index: number;
  term: number;
}

/** The Raft settings a host chooses (the rest are DEFAULT_CONFIG's). */
export type ReplicaTuning = Partial<Pick<RaftConfig, 'electionTick' | 'readOnly' | 'maxSizePerMsg' | 'maxInflightMsgs' | 'commitBroadcast'>>;

const encoder = new TextEncoder();
const NONE: readonly number[] = [];
const STALE = { stale: true } as const;

export class Replica<C = unknown, R = unknown, M extends RangeStateMachine<C, R> = RangeStateMachine<C, R>> {
  readonly raw: RawNode;
  /** Writes accepted this turn, proposed together at the next flush. */
  private queuedWrites: { cmd: CommandEntry<C> | SplitCommand; waiter: WriteWaiter<R | undefined> }[] = [];
  /** Right halves created by splits applied this turn: the host opens their replicas after the apply batch (LoopHost.afterApply). */
  readonly createdBySplit: RangeDescriptor[] = [];
  /** Set when this replica applied its own removal: the host destroys it after the apply batch (LoopHost.afterApply). */
  removed = false;
  /** Destroyed: no longer in the host's maps; nothing may schedule or persist it again. */
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
  private readonly inflight = new Map<string, WriteWaiter<R | undefined>>();
  /** Reads accepted this turn: one ReadIndex round serves them all. */
  private queuedReads: Waiter<void>[] = [];
  /** The queued reads must also wait for everything proposed before they arrived (a snapshot read raising the leader's floor, say). */
  private queuedReadsNeedProposed = false;
  /** Read rounds by context, with when each started (monotonic ms) and the index they must wait for at least. */
  private readonly readRounds = new Map<string, { waiters: Waiter<void>[]; startedAt: number; minIndex: number }>();
  private readsAwaitingApply: { index: number; waiters: Waiter<void>[]; startedAt: number }[] = [];
  private readSeq = 0;
  /** Index up to which the state machine (the engine) reflects the log. */
  applied: number;
  /** The applied index whose state is on disk (see readNow). */
  private written: number;
  quiesced = false;
  /** Ticks the leader has been idle with every follower caught up. */
  private idleTicks = 0;
  /** A read was served at once on the lease since the last tick (readNow). */
  private readSinceTick = false;
  /** A snapshot received (see acceptSnapshot), waiting to be installed with its Raft state. */
  incomingSnapshot: { index: number; desc: RangeDescriptor; pairs: [Uint8Array, Uint8Array][]; done: Waiter<void> } | undefined;
  /** Peers a snapshot is being streamed to. */
  readonly sendingSnapshotTo = new Set<number>();
  /** Log compaction requested by the tick; done inside the next loop turn. */
  compactTo = 0;

  constructor(
    readonly desc: { current: RangeDescriptor },
    readonly replicaId: number,
    readonly storage: DurableRaftStorage,
    applied: number,
    rng: Rng,
    tuning: ReplicaTuning,
    /** What the range's commands mean (the host's). */
    readonly machine: M,
  ) {
    this.applied = applied;
    this.written = applied;
    // A lazy commit broadcast: a follower applies in the turn that persists its next entries (see RaftConfig).
    this.raw = new RawNode({ ...DEFAULT_CONFIG, maxInflightMsgs: 64, commitBroadcast: 'lazy', ...tuning, id: replicaId, applied }, storage, rng);
  }

  /** Opens the replica `replicaId` of `desc` from what `engine` holds (its Raft log, applied index, dedup generation). */
  static async open<C, R, M extends RangeStateMachine<C, R>>(engine: Engine, desc: RangeDescriptor, replicaId: number, rng: Rng, tuning: ReplicaTuning, machine: M): Promise<Replica<C, R, M>> {
    const storage = await DurableRaftStorage.open(engine, desc.id);
    const applyKey = keys.applyStateKey(desc.id);
    const applyBytes = await engine.get(applyKey);
    const applied = applyBytes ? decodeApplyState(applyBytes, applyKey) : 0;
    const replica = new Replica<C, R, M>({ current: desc }, replicaId, storage, applied, rng, tuning, machine);
    const generation = await engine.get(keys.dedupGenerationKey(desc.id));
    if (generation) replica.dedupGeneration = decodeGeneration(generation);
    return replica;
  }

  get rangeId(): number {
    return this.desc.current.id;
  }

  isLeader(): boolean {
    return this.raw.role === 'leader';
  }

  /**
   * Whether a linearizable read may be served now, without waiting for a loop
   * turn: this leader's lease holds, and everything committed is applied and
   * on disk (an applied entry whose batch is still being written is not
   * readable yet). The host brings the ticks up to the clock first. Never on
   * a quiesced range: its ticks stand still, so a lease counted in them could
   * outlive the real one (the slow path wakes it, which drops the lease). A
   * read served so keeps the range from quiescing.
   */
  readNow(): boolean {
    if (this.quiesced) return false;
    const index = this.raw.leaseReadIndex();
    if (index === undefined || index > this.written) return false;
    this.readSinceTick = true;
    return true;
  }

  /** The loop wrote the batch holding everything applied so far. */
  appliedWritten(): void {
    this.written = this.applied;
  }

  leaderStore(): number {
    const lead = this.raw.lead;
    return lead === 0 ? 0 : storeOfReplica(lead);
  }

  hasWork(): boolean {
    return this.queuedWrites.length > 0 || this.queuedReads.length > 0;
  }

  /** Proposes a client command (answered with its state machine's result) or a split (answered with nothing but whether it applied). */
  write(cmd: CommandEntry<C>): Promise<EntryResult<R>>;
  write(cmd: SplitCommand): Promise<EntryResult<undefined>>;
  write(cmd: CommandEntry<C> | SplitCommand): Promise<EntryResult<R | undefined>> {
    this.wake();
    return new Promise((resolve, reject) => this.queuedWrites.push({ cmd, waiter: { resolve, reject, proposedAt: 0, index: 0, term: 0 } }));
  }

  /**
   * Resolves once a linearizable read of this range's data may be served
   * locally. With `afterProposed`, also once every write proposed before the
   * call has applied (a snapshot read raised the leader's floor, and a write
   * proposed earlier was stamped with the floor before it).
   */
  readBarrier(afterProposed = false): Promise<void> {
    this.wake();
    this.queuedReadsNeedProposed ||= afterProposed;
    return new Promise((resolve, reject) => this.queuedReads.push({ resolve, reject }));
  }

  /** Proposes the writes and starts the read round accumulated this turn; `now` is the loop turn's monotonic clock reading. */
  flushRequests(now: number): void {
    if (this.queuedWrites.length > 0) {
      const batch = this.queuedWrites;
      this.queuedWrites = [];
      const proposed: typeof batch = [];
      const data: Uint8Array[] = [];
      for (const w of batch) {
        if ('splitKey' in w.cmd) {
          data.push(encodeSplit(w.cmd));
          proposed.push(w);
          continue;
        }
        // The state machine stamps what it needs of the leader's state, or refuses before the log (nothing applies).
        const cmd = this.machine.propose(w.cmd.cmd, this.raw.term);
        if (isRefusal(cmd)) {
          w.waiter.reject(cmd.refused);
          continue;
        }
        data.push(encodeCommandEntry(cmd === w.cmd.cmd ? w.cmd : { ...w.cmd, cmd }, this.machine));
        proposed.push(w);
      }
      this.writesSinceRotate += proposed.length;
      const res = data.length > 0 ? this.raw.proposeBatch(data) : undefined;
      if (res?.kind === 'ok') {
        // The batch's entries end at res.index, in proposal order.
        for (const [i, w] of proposed.entries()) {
          w.waiter.proposedAt = now;
          w.waiter.index = res.index - proposed.length + 1 + i;
          w.waiter.term = res.term;
          this.inflight.set(w.cmd.requestId, w.waiter);
        }
      } else if (res) {
        // Refused before entering the log: nothing can apply.
        const err = res.kind === 'notLeader' ? new NotLeaderError(res.leader ? storeOfReplica(res.leader) : 0) : new UnavailableError(res.reason);
        for (const w of proposed) w.waiter.reject(err);
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

  /**
   * Leadership changed: what we promised as leader can no longer be confirmed
   * here. A proposed write may still commit under the next leader, so its
   * outcome is unknown; a read round applied nothing.
   */
  onSoftState(rd: Ready): void {
    if (!rd.softState || rd.softState.role === 'leader') return;
    // Errors are built only when someone waits: capturing a stack costs more than the rest of a turn.
    if (this.inflight.size > 0) {
      const lost = new OutcomeUnknownError(`leadership moved (to store ${this.leaderStore()}) before the write applied`);
      for (const w of this.inflight.values()) w.reject(lost);
      this.inflight.clear();
    }
    const err = new NotLeaderError(this.leaderStore());
    if (this.readRounds.size > 0) {
      for (const round of this.readRounds.values()) for (const w of round.waiters) w.reject(err);
      this.readRounds.clear();
    }
    this.machine.leadershipLost(err);
  }

  /** The Ready's committed entries, decoded once (undefined for conf changes and empty entries): the host reads ahead what they will read. */
  decodeCommitted(rd: Ready): (Entry<C> | undefined)[] {
    return rd.committedEntries.map((e) => (e.type !== 'conf' && e.data.byteLength > 0 ? decodeEntry(e.data, this.machine) : undefined));
  }

  /**
   * Applies committed entries (decoded by decodeCommitted) through the turn's
   * view into its batch (data, dedup records, applied index, descriptor
   * changes). Returns the results to hand out once the batch is written.
   */
  async apply(rd: Ready, entries: readonly (Entry<C> | undefined)[], view: ApplyView, engine: Engine, batch: WriteBatch, host: ApplyHost): Promise<[WriteWaiter<R | undefined>, EntryResult<R | undefined>][]> {
    const done: [WriteWaiter<R | undefined>, EntryResult<R | undefined>][] = [];
    if (rd.snapshot) {
      // Installed by the Ready loop in the persist batch (see stageSnapshotInstall in range-snapshot.ts).
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
        let result: EntryResult<R | undefined>;
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
          result = await this.applyCommand(entry.entry, view);
        }
        const waiter = this.inflight.get(id);
        if (waiter && waiter.index === e.index && waiter.term === e.term) {
          this.inflight.delete(id);
          done.push([waiter, result]);
        }
      }
      this.applied = e.index;
    }
    batch.put(keys.applyStateKey(this.rangeId), encodeApplyState(this.applied));
    return done;
  }

  /** A client command: looked up first when it is a retry of one its state machine applies at most once by record. */
  private async applyCommand(entry: CommandEntry<C>, view: ApplyView): Promise<EntryResult<R>> {
    const desc = this.desc.current;
    const m = this.machine;
    // Proposed before a split moved a key to another range: that range applies the retry.
    if (!m.keysOf(entry.cmd).every((k) => containsKey(desc, k))) return STALE;
    const id = m.exactlyOnce(entry.cmd) ? encoder.encode(entry.requestId) : undefined;
    const dedup = id ? keys.dedupKey(this.rangeId, this.dedupGeneration, id) : undefined;
    if (id && dedup && entry.retry) {
      const seen = (await view.get(dedup)) ?? (this.dedupGeneration > 0 ? await view.get(keys.dedupKey(this.rangeId, this.dedupGeneration - 1, id)) : undefined);
      if (seen) return { stale: false, result: m.decodeResult(seen) };
    }
    const result = await m.apply(entry.cmd, desc, entry.retry, view);
    if (dedup && m.remembers(result)) view.put(dedup, m.encodeResult(result));
    return { stale: false, result };
  }

  private async applySplit(cmd: SplitCommand, engine: Engine, batch: WriteBatch, view: ApplyView, host: ApplyHost): Promise<EntryResult<undefined>> {
    if (splitRejection(this.desc.current, cmd) !== undefined) return STALE;
    const { left, right } = splitDescriptors(this.desc.current, cmd);
    this.desc.current = left;
    // The followers apply it now, not at the next heartbeat: one cut off (or removed) before it learns
    // the commit would never create its replica of the right half, which would start one replica short.
    this.raw.broadcastCommit();
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
    return { stale: false, result: undefined };
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
    this.machine.leadershipLost(err);
  }

  // ---- quiescence -------------------------------------------------------------

  wake(): void {
    // Quiesced, its ticks stood still while time went on: a lease counted in them (the
    // followers acknowledge the very heartbeats that quiesce them) would outlive the real one.
    if (this.quiesced) this.raw.dropLease();
    this.quiesced = false;
    this.idleTicks = 0;
  }

  /**
   * A leader with nothing in flight, no reads, and every follower caught up
   * stops ticking (its last heartbeats carry the quiesce flag so followers
   * stop too). Returns true when this tick should send quiescing heartbeats.
   */
  tickQuiesce(): boolean {
    const s = this.raw.status();
    const reading = this.readSinceTick;
    this.readSinceTick = false;
    // A leadership transfer is abandoned after an election timeout of ticks: quiesced, it would never be.
    if (s.role !== 'leader' || s.leadTransferee !== 0 || reading || this.inflight.size > 0 || this.readRounds.size > 0 || this.readsAwaitingApply.length > 0) {
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

function encodeGeneration(gen: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, gen);
  return out;
}

function decodeGeneration(bytes: Uint8Array): number {
  if (bytes.byteLength !== 4) throw new Error(`bad dedup generation record of ${bytes.byteLength} bytes`);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
}
