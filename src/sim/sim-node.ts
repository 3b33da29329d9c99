/**
 * One simulated server of the single-group simulator: a production `Replica`
 * driven by the production Ready loop (replica/ready-loop.ts) over a disk
 * that survives crashes (CrashableDisk, the in-memory engine twin), so the
 * simulator checks the code the store runs: the Ready contract, apply into
 * the engine through the store's MVCC state machine and turn (its metadata
 * read-ahead and caches), exactly-once records, snapshots and compaction.
 *
 * The node is the loop's host, as the store is: it hands messages to the
 * simulated network, sends snapshots (the range's engine keys, handed over
 * whole rather than streamed), and decides when its replica ticks, compacts
 * and rotates its exactly-once records. A crash fences the disk (whatever
 * the dead incarnation still had in flight never lands) and kills its
 * timers; a restart opens the replica from the disk, as a real process would.
 */
import { assert, UnavailableError } from '../common/index.js';
import type { NodeId, RangeDescriptor } from '../common/index.js';
import type { Message, RaftConfig, Ready } from '../raft/index.js';
import { acceptSnapshot, decodeDescriptor, encodeDescriptor, finishSnapshotSend, rangeStateBounds, ReadyLoop, Replica, stageInitialState, startSnapshotSend } from '../replica/index.js';
import type { CommandEntry, EntryResult, LoopHost, LoopMetrics, ReadyObserver } from '../replica/index.js';
import type { SeededRng, SimScheduler, Timers } from '../runtime/index.js';
import { silentLogger } from '../runtime/index.js';
import type { Engine } from '../storage/index.js';
import { DurableRaftStorage, keys, WriteBatch } from '../storage/index.js';
import { MvccRange, MvccTurn, TimestampSync } from '../store/index.js';
import type { StoreReplica } from '../store/index.js';
import { get, LATEST, MvccTxn, READ_ONLY } from '../txn/index.js';
import type { TxnCommand, TxnResult } from '../txn/index.js';
import { CrashableDisk } from './crashable-engine.js';

/** A snapshot's data as one node hands it to another: the sender's descriptor and the range's engine pairs. */
export interface SnapshotData {
  readonly desc: RangeDescriptor;
  readonly pairs: [Uint8Array, Uint8Array][];
}

/** What a node reports to the simulation. */
export interface NodeEvents {
  send(msg: Message, snapshot?: SnapshotData): void;
  /** `rd` is durable and its committed entries applied (for the safety checkers). */
  persisted(node: SimNode, rd: Ready): void;
  /** The loop (or a start) failed: an injected DiskFault (the process must stop), a broken invariant, or a checker's violation raised in `persisted`. */
  failed(node: SimNode, err: unknown): void;
}

export interface SimNodeOptions {
  readonly readOnly: RaftConfig['readOnly'];
  readonly commitBroadcast: RaftConfig['commitBroadcast'];
  /** Compact the log once this many entries are applied past its first index. */
  readonly snapshotInterval: number;
  /** Small values split appends into many messages (exposes commit-rule and backtracking bugs). */
  readonly maxSizePerMsg: number;
  readonly maxInflightMsgs: number;
  /** Ticks between generations of exactly-once records (must exceed a client's retry window). */
  readonly dedupRotateTicks: number;
}

const EMPTY = new Uint8Array(0);

export class SimNode implements LoopHost<StoreReplica> {
  /** The running incarnation's replica; undefined while the node is down. */
  replica: StoreReplica | undefined;
  /** The Raft log of the latest incarnation, as durable as its last written batch (kept across a crash, for the checkers). */
  log: DurableRaftStorage | undefined;
  /**
   * Set by the nemesis: crash during the next turn of the loop, after the
   * early messages (a leader's appends) went out but before the disk write,
   * or after the disk write but before the other messages.
   */
  crashDuringReady: 'no' | 'beforePersist' | 'afterPersist' = 'no';
  readonly metrics: LoopMetrics = {
    appliedEntries: 0,
    fsyncs: 0,
    syncedEntries: 0,
    snapshotsInstalled: 0,
    compactions: 0,
    readiesPerLoop: { sum: 0, count: 0 },
    fsync: { observe: () => {} },
    observeApplied: () => {},
    observeReads: () => {},
  };
  private readonly disk: CrashableDisk;
  /** The world's timers (a supervisor's: they outlive every incarnation). */
  private readonly world: Timers;
  private engine: Engine | undefined;
  private loop: ReadyLoop<StoreReplica> | undefined;
  /** A new leader's read floor: with no TSO here, synced at once (as the placement driver's own store does). */
  private readonly tsSync: TimestampSync;
  private timers: (Timers & { kill(): void }) | undefined;
  private starting = false;
  /** Bumped by every crash: a start the crash overtook must not open the disk. */
  private life = 0;
  /** The state to write before the first start (a new replica's, as Store.createReplica writes it); cleared once durable. */
  private creation: { desc: RangeDescriptor; bootstrap: boolean } | undefined;

  constructor(
    readonly id: NodeId,
    /** The range's descriptor; `bootstrap` for an initial member, otherwise the node waits for a snapshot. */
    desc: RangeDescriptor,
    bootstrap: boolean,
    private readonly time: SimScheduler,
    private readonly rng: SeededRng,
    private readonly opts: SimNodeOptions,
    private readonly events: NodeEvents,
  ) {
    this.world = time.scope();
    this.disk = new CrashableDisk(this.world, rng.fork());
    this.tsSync = new TimestampSync(undefined, this.world, silentLogger, () => false);
    this.creation = { desc, bootstrap };
    this.start();
  }

  get alive(): boolean {
    return this.replica !== undefined;
  }

  get raw(): Replica['raw'] | undefined {
    return this.replica?.raw;
  }

  /** Starts a new incarnation from the disk: it is up once the scheduler ran this tick's events. */
  start(): void {
    if (this.alive || this.starting) return;
    this.starting = true;
    const life = this.life;
    this.world.setImmediate(() => {
      if (life === this.life) this.open().catch((err: unknown) => this.events.failed(this, err));
    });
  }

  private async open(): Promise<void> {
    const engine = this.disk.open();
    if (this.creation) {
      const { desc, bootstrap } = this.creation;
      const batch = new WriteBatch();
      batch.sync = true;
      if (bootstrap) stageInitialState(batch, desc, await DurableRaftStorage.open(engine, desc.id));
      else batch.put(keys.rangeDescriptorKey(desc.id), encodeDescriptor(desc));
      await batch.write(engine);
      this.creation = undefined;
    }
    const bytes = await engine.get(keys.rangeDescriptorKey(RANGE_ID));
    assert(bytes !== undefined, () => `node ${this.id}: no range descriptor on its disk`);
    const tuning = { readOnly: this.opts.readOnly, commitBroadcast: this.opts.commitBroadcast, maxSizePerMsg: this.opts.maxSizePerMsg, maxInflightMsgs: this.opts.maxInflightMsgs };
    const replica = await Replica.open<TxnCommand, TxnResult, MvccRange>(engine, decodeDescriptor(bytes), this.id, this.rng, tuning, new MvccRange());
    const timers = this.time.scope();
    this.engine = engine;
    this.timers = timers;
    this.log = replica.storage;
    this.loop = new ReadyLoop(engine, this, this.time, timers, this.metrics, this.observer(replica));
    this.replica = replica;
    this.starting = false;
    this.loop.markDirty(replica);
  }

  /** The checkers' view of this incarnation's loop, and the crash points inside a turn. */
  private observer(replica: StoreReplica): ReadyObserver<StoreReplica> {
    return {
      persisting: () => {
        if (replica === this.replica && this.crashDuringReady === 'beforePersist') this.crash();
      },
      persisted: (_, rd) => {
        if (replica !== this.replica) return;
        this.events.persisted(this, rd);
        if (this.crashDuringReady === 'afterPersist') this.crash();
      },
    };
  }

  /** kill -9: the process goes, the disk stays as its last completed write left it. */
  crash(): void {
    this.crashDuringReady = 'no';
    this.life++;
    this.disk.crash();
    this.timers?.kill();
    this.loop?.close();
    this.replica = undefined;
    this.engine = undefined;
    this.loop = undefined;
    this.timers = undefined;
    this.starting = false;
  }

  // ---- what the simulation does to the node -------------------------------------------

  /** The node's next disk write fails (a DiskFault): its loop stops, and the simulation restarts the node. */
  failNextWrite(): void {
    this.disk.failNextWrite();
  }

  /** No more injected crashes or disk faults (the liveness phase). */
  calm(): void {
    this.crashDuringReady = 'no';
    this.disk.heal();
  }

  /** One tick of the node's clock: the host's periodic decisions, then Raft's. */
  tick(): void {
    const r = this.replica;
    if (!r) return;
    if (r.applied - r.storage.firstIndex() >= this.opts.snapshotInterval) {
      // Sometimes keep a tail of entries so slow followers can catch up from the log.
      r.compactTo = r.applied - (this.rng.int(3) === 0 ? 0 : this.rng.int(this.opts.snapshotInterval));
    }
    r.maybeRotateDedup(this.opts.dedupRotateTicks);
    r.raw.tick();
    this.loop!.markDirty(r);
  }

  deliver(msg: Message, snapshot: SnapshotData | undefined): void {
    const r = this.replica;
    if (!r) return;
    if (snapshot) acceptSnapshot(r, msg, snapshot.desc, snapshot.pairs)?.catch(() => {});
    else r.raw.step(msg);
    this.loop!.markDirty(r);
  }

  /** The snapshot this node sent to `to` arrived (or was lost). */
  snapshotDelivered(to: NodeId, ok: boolean): void {
    const r = this.replica;
    if (!r) return;
    finishSnapshotSend(r, to, ok);
    this.loop!.markDirty(r);
  }

  /** A client's `/kv` write, as the store's KV service makes it: once the new leader's read floor is synced. */
  async write(entry: CommandEntry<TxnCommand>): Promise<EntryResult<TxnResult>> {
    const r = this.replica!;
    if (!r.machine.tsSynced(r.raw.term)) {
      await r.machine.awaitTsSync(r.raw.term);
      // Crashed meanwhile (and maybe restarted): the dead incarnation's replica must never run again.
      if (r !== this.replica) throw new UnavailableError(`node ${this.id} restarted before the write was proposed`);
    }
    this.loop!.markDirty(r);
    return r.write(entry);
  }

  /** A linearizable read of the newest state (a ReadIndex round, here even on a follower), as the store's KV service makes it. */
  async read(key: Uint8Array): Promise<Uint8Array | undefined> {
    const r = this.replica!;
    const engine = this.engine!;
    this.loop!.markDirty(r);
    await r.readBarrier();
    const res = await get(new MvccTxn(r.machine.readView(engine), READ_ONLY), key, LATEST);
    // No transaction runs here: nothing ever locks a key.
    assert(res.kind !== 'locked', () => `node ${this.id}: a /kv read found a lock`);
    return res.value;
  }

  /** The range's state in the engine (user data and exactly-once records), for comparing replicas. */
  async stateImage(): Promise<string> {
    const out: string[] = [];
    for (const { gte, lt } of rangeStateBounds(this.replica!.desc.current)) {
      for await (const [k, v] of this.engine!.range(gte, lt)) out.push(`${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`);
    }
    return out.join(',');
  }

  // ---- LoopHost -------------------------------------------------------------------------

  send(r: StoreReplica, msgs: readonly Message[]): void {
    // A dead incarnation's messages go nowhere.
    if (r !== this.replica) return;
    for (const m of msgs) {
      if (m.kind === 'snap') this.sendSnapshot(r, m);
      else this.events.send(m);
    }
  }

  /** Messages leave one by one (the simulated network has no frames). */
  flush(): void {}

  /** Nothing to do: the simulation has no splits, and collects removed nodes itself (as the placement driver would). */
  async afterApply(): Promise<void> {}

  fatal(err: unknown): void {
    this.events.failed(this, err);
  }

  /** The store's MVCC turn: applies through the same view, metadata read-ahead and caches as production's. */
  beginTurn(batch: WriteBatch): MvccTurn {
    return new MvccTurn(this.engine!, batch, this.tsSync);
  }

  /** The node hosts one range: a split (never proposed here) would find no replica of its right half. */
  hasReplica(): boolean {
    return false;
  }

  openStorage(rangeId: number): Promise<DurableRaftStorage> {
    return DurableRaftStorage.open(this.engine!, rangeId);
  }

  /** The range's engine pairs at its applied index (views taken now, as the store's snapshot stream does), then the message. */
  private sendSnapshot(r: StoreReplica, msg: Extract<Message, { kind: 'snap' }>): void {
    const meta = startSnapshotSend(r, msg.to, true);
    if (!meta) return;
    const desc = r.desc.current;
    const views = rangeStateBounds(desc).map((b) => this.engine!.snapshotRange(b.gte, b.lt));
    void (async () => {
      const pairs: [Uint8Array, Uint8Array][] = [];
      for (const view of views) for await (const pair of view) pairs.push(pair);
      if (r === this.replica) this.events.send({ ...msg, snapshot: { meta, data: EMPTY } }, { desc, pairs });
    })();
  }
}

/** The one range of the single-group simulator. */
export const RANGE_ID = 1;
