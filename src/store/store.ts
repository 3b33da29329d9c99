/**
 * The multi-Raft host: thousands of range replicas in one process, one
 * LevelDB, one Ready loop (replica/ready-loop.ts: group commit across ranges,
 * one write with one fsync per turn). The store is the loop's host: it sends
 * the loop's messages (one frame per peer store), streams snapshots, opens the
 * ranges a split creates and destroys replicas that were removed, and decides
 * when replicas tick. Idle ranges quiesce (no ticks, no heartbeats); one
 * liveness heartbeat per store pair per tick lets quiesced followers notice a
 * dead leader's store.
 *
 * Its replicas apply MVCC (mvcc-range.ts, the state machine it plugs into
 * each replica; mvcc-turn.ts, its side of every loop turn), and a new range
 * leader takes its read floor from the TSO (ts-sync.ts).
 *
 * The operations live by concern beside it: kv-service.ts (range-level KV
 * requests), range-admin.ts (split, membership changes, sizes),
 * snapshot-transfer.ts (send, receive, install), liveness.ts (silent peer
 * stores), pd-heartbeat.ts (registration and heartbeats to the placement
 * driver). All I/O goes through StoreDeps.
 */
import { BadRequestError, RangeNotFoundError, UnavailableError } from '../common/index.js';
import type { Rng, Timestamp } from '../common/index.js';
import type { Clock, Logger, Timers } from '../runtime/index.js';
import { DeadlineSweeper } from '../runtime/index.js';
import { DurableRaftStorage, keys, WriteBatch } from '../storage/index.js';
import type { Engine } from '../storage/index.js';
import type { PdHandlers, RangeMessage, WireKvRequest, WireKvResponse, WireRangeStatus } from '../transport/index.js';
import { decodeFrame, overlaps, RaftTransport, WireError } from '../transport/index.js';
import type { StoreHandlers, StoreListener, StoreNetwork } from '../transport/index.js';
import { StoreMetrics } from './metrics.js';
import { decodeDescriptor, encodeDescriptor, rangeStateBounds, ReadyLoop, Replica, stageInitialState, storeOfReplica } from '../replica/index.js';
import type { LoopHost } from '../replica/index.js';
import { handleKv, KV_REQUEST_TIMEOUT_MS } from './kv-service.js';
import { PeerLiveness } from './liveness.js';
import { MvccRange } from './mvcc-range.js';
import type { StoreReplica } from './mvcc-range.js';
import { MvccTurn } from './mvcc-turn.js';
import type { TxnCommand, TxnResult } from '../txn/index.js';
import { TimestampSync } from './ts-sync.js';
import { receiveSnapshotAndStep, streamSnapshot } from './snapshot-transfer.js';
import { changeReplicas, splitRange } from './range-admin.js';
import type { Message } from '../raft/index.js';
import type { RangeDescriptor } from '../common/index.js';

export interface StoreConfig {
  readonly id: number;
  /** Directory of the store's LevelDB. */
  readonly dir: string;
  /** host:port to serve gRPC on (port 0 picks a free one). */
  readonly listen: string;
  /** Other stores' gRPC addresses; the store adds the ones that join (from the placement driver's heartbeats). */
  readonly peers: Map<number, string>;
  readonly tickMs: number;
  readonly electionTick: number;
  /** How often a range leader starts a new generation of exactly-once records (default 60 s; must exceed the clients' retry window). */
  readonly dedupRotateMs?: number;
  /** Compact a range's Raft log once this many applied entries pile up (keeping half as a tail for slow followers). */
  readonly compactLogEntries?: number;
  /**
   * Serve reads on a leader's lease, with no ReadIndex round (default true).
   * Safe as long as the stores' clocks run at the same rate within 20 %
   * (Raft's LEASE_MARGIN); false: every read round asks a quorum.
   */
  readonly leaseReads?: boolean;
}

/** Everything the store does I/O through, built by src/cli (LevelDB, gRPC, the system clock) or by a test (their twins). */
export interface StoreDeps {
  /** The store's storage; the store owns it from now on and closes it. */
  readonly engine: Engine;
  readonly network: StoreNetwork;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly rng: Rng;
  readonly logger: Logger;
  /** A storage failure in the event loop: the process must stop (default: exit 70). The simulator records it instead. */
  readonly fatal?: (err: unknown) => void;
  /** A fresh timestamp from the placement driver's TSO (see ts-sync.ts); absent where there is none. */
  readonly tso?: () => Promise<Timestamp>;
}

export class Store implements LoopHost<StoreReplica> {
  readonly replicas = new Map<number, StoreReplica>();
  readonly metrics: StoreMetrics = new StoreMetrics(this);
  readonly transport: RaftTransport;
  private listener: StoreListener | undefined;
  private readonly handlers: StoreHandlers;
  private readonly loop: ReadyLoop<StoreReplica>;
  /** Replicas that tick (not quiesced); a superset, pruned at each tick. */
  private readonly active = new Set<StoreReplica>();
  private tickTimer: { unref(): void } | undefined;
  /** Ticks delivered; tick n is due at tickEpoch + n * tickMs (see catchUpTicks). */
  private ticks = 0;
  private readonly tickEpoch: number;
  /** Which peer stores went silent (their quiesced ranges must wake). */
  private readonly liveness: PeerLiveness;
  /** Replicas whose next heartbeats carry the quiesce flag. */
  private readonly quiescing = new Set<StoreReplica>();
  port = 0;
  /** A new generation of exactly-once records about once a minute (see Replica.dedupGeneration). */
  private readonly rotateEveryTicks: number;
  /**
   * True while the data directory is unclaimed: this start found it empty. A
   * store that lost its data must not rejoin as itself, so the placement
   * driver is asked first; `claimDataDir` then marks the directory as this
   * store's.
   */
  fresh = false;
  /** Ranges whose replica is being deleted: none may be created meanwhile. */
  private readonly destroying = new Set<number>();
  /** Other stores' gRPC addresses (the config's map, updated in place). */
  readonly peers: Map<number, string>;
  private readonly tsSync: TimestampSync;
  /** Closing: no more TSO calls for new leaders. */
  private closed = false;

  readonly engine: Engine;
  readonly requestDeadlines: DeadlineSweeper;

  private constructor(
    readonly cfg: StoreConfig,
    readonly deps: StoreDeps,
  ) {
    this.engine = deps.engine;
    this.requestDeadlines = new DeadlineSweeper(deps.clock, deps.timers, KV_REQUEST_TIMEOUT_MS);
    this.peers = cfg.peers;
    this.rotateEveryTicks = Math.ceil((cfg.dedupRotateMs ?? 60_000) / cfg.tickMs);
    this.tickEpoch = deps.clock.monotonic();
    this.liveness = new PeerLiveness(deps.clock, cfg.electionTick * cfg.tickMs);
    this.tsSync = new TimestampSync(deps.tso, deps.timers, deps.logger, () => this.closed);
    this.transport = new RaftTransport(
      cfg.id,
      (s) => this.peers.get(s),
      deps.timers,
      (s) => this.onUnreachable(s),
      (address) => deps.network.openRaftStream(address),
    );
    this.loop = new ReadyLoop(deps.engine, this, deps.clock, deps.timers, this.metrics);
    this.handlers = {
      onRaftFrame: (from, payload) => this.onRaftFrame(from, payload),
      kv: (reqs) => this.kv(reqs),
      kvOne: (req) => {
        this.metrics.kvRequests++;
        return handleKv(this, req);
      },
      createReplica: (range, bootstrap) => this.createReplica(range, bootstrap),
      ranges: () => this.rangeStatuses(),
      transferLeader: (rangeId, toStore) => this.transferLeader(rangeId, toStore),
      snapshot: (chunks) => receiveSnapshotAndStep(this, chunks),
      split: (req) => splitRange(this, req),
      changeReplicas: (req) => changeReplicas(this, req),
    };
  }

  /** Opens the store's engine and replicas and starts serving; `pd` adds the placement driver's service on the same port. */
  static async open(cfg: StoreConfig, deps: StoreDeps, pd?: PdHandlers): Promise<Store> {
    const engine = deps.engine;
    const store = new Store(cfg, deps);
    store.fresh = await checkDataDir(engine, cfg);
    const { gte, lt } = keys.rangeDescriptorScan();
    const descs: RangeDescriptor[] = [];
    for await (const [k, v] of engine.range(gte, lt)) if (keys.isRangeDescriptorKey(k)) descs.push(decodeDescriptor(v));
    for (const d of descs) {
      if (d.replicas.some((rep) => rep.store === cfg.id)) await store.openReplica(d);
      else deps.logger.warn({ range: d.id }, 'skipping a range descriptor that does not list this store');
    }
    store.listener = await deps.network.serve(cfg.listen, store.handlers, pd);
    store.port = store.listener.port;
    store.tickTimer = deps.timers.setInterval(() => store.catchUpTicks(), cfg.tickMs);
    deps.logger.info({ store: cfg.id, port: store.port, ranges: descs.length }, 'store started');
    return store;
  }

  private async openReplica(desc: RangeDescriptor): Promise<StoreReplica> {
    const me = desc.replicas.find((r) => r.store === this.cfg.id);
    if (!me) throw new Error(`range ${desc.id} has no replica on store ${this.cfg.id}`);
    const replica = await Replica.open<TxnCommand, TxnResult, MvccRange>(this.engine, desc, me.replicaId, this.deps.rng, { electionTick: this.cfg.electionTick, readOnly: this.cfg.leaseReads === false ? 'safe' : 'lease' }, new MvccRange());
    this.replicas.set(desc.id, replica);
    this.markDirty(replica);
    return replica;
  }

  /** Marks the data directory as this store's (see `fresh`). */
  async claimDataDir(): Promise<void> {
    if (!this.fresh) return;
    const batch = new WriteBatch();
    batch.sync = true;
    batch.put(keys.storeIdentKey(), Buffer.from(String(this.cfg.id)));
    await batch.write(this.engine);
    this.fresh = false;
  }

  /**
   * Creates a replica from a descriptor; `bootstrap` writes the group's first
   * log entries (initial members only). Without it the replica starts empty
   * and the leader catches it up by snapshot (a move).
   */
  async createReplica(desc: RangeDescriptor, bootstrap: boolean): Promise<void> {
    if (this.destroying.has(desc.id)) throw new UnavailableError(`range ${desc.id} is being destroyed on store ${this.cfg.id}; try again`);
    const existing = this.replicas.get(desc.id);
    const me = desc.replicas.find((r) => r.store === this.cfg.id);
    if (!me) throw new BadRequestError(`range ${desc.id} has no replica on store ${this.cfg.id}`);
    if (existing?.replicaId === me.replicaId) return;
    if (existing) {
      // A replica left over from an earlier membership (removed, never told): the descriptor is newer.
      if (existing.desc.current.epoch.confVer >= desc.epoch.confVer) throw new UnavailableError(`range ${desc.id} has replica ${existing.replicaId} here, not ${me.replicaId}`);
      await this.destroyReplica(desc.id);
    }
    // Data keys are shared by the store's ranges: two replicas must never cover the same keys.
    for (const r of this.replicas.values()) {
      if (overlaps(r.desc.current, desc)) throw new UnavailableError(`range ${desc.id} overlaps range ${r.rangeId} on store ${this.cfg.id}`);
    }
    const batch = new WriteBatch();
    batch.sync = true;
    if (bootstrap) stageInitialState(batch, desc, await this.openStorage(desc.id));
    else batch.put(keys.rangeDescriptorKey(desc.id), encodeDescriptor(desc));
    await batch.write(this.engine);
    await this.openReplica(desc);
  }

  // ---- the Ready loop's host -------------------------------------------------------

  markDirty(r: StoreReplica): void {
    if (r.destroyed) return;
    if (!r.quiesced) this.active.add(r);
    this.loop.markDirty(r);
  }

  fatal(err: unknown): void {
    // Storage failed: continuing could acknowledge writes that are not durable.
    this.deps.logger.fatal({ err }, 'store event loop failed; exiting');
    if (this.deps.fatal) this.deps.fatal(err);
    else process.exit(70);
  }

  hasReplica(rangeId: number): boolean {
    return this.replicas.has(rangeId);
  }

  openStorage(rangeId: number): Promise<DurableRaftStorage> {
    return DurableRaftStorage.open(this.engine, rangeId);
  }

  flush(): void {
    this.transport.flush();
  }

  beginTurn(batch: WriteBatch): MvccTurn {
    return new MvccTurn(this.engine, batch, this.tsSync);
  }

  /** Opens the ranges a split created and destroys a replica that applied its own removal. */
  async afterApply(r: StoreReplica): Promise<void> {
    for (const right of r.createdBySplit.splice(0)) {
      const created = await this.openReplica(right);
      // The left's leader is the natural leader of the right half: no election timeout to wait out.
      if (r.isLeader()) created.raw.campaign();
      this.deps.logger.info({ left: r.rangeId, right: right.id }, 'range split');
    }
    if (r.removed) await this.destroyReplica(r.rangeId, true);
  }

  /** Deletes a replica and everything it owns (Raft state, data, exactly-once records). */
  /**
   * `inLoop`: called by the event loop after this turn's write; otherwise the
   * deletion waits for a running turn, which may still be writing the
   * replica's Raft state (left behind, it would corrupt a later replica of the
   * same range here).
   */
  async destroyReplica(rangeId: number, inLoop = false): Promise<void> {
    const r = this.replicas.get(rangeId);
    if (!r) return;
    r.destroyed = true;
    this.destroying.add(rangeId);
    this.replicas.delete(rangeId);
    this.loop.forget(r);
    this.active.delete(r);
    const gone = new RangeNotFoundError(`range ${rangeId} was removed from store ${this.cfg.id}`);
    r.failAll(gone);
    r.incomingSnapshot?.done.reject(gone);
    while (!inLoop && this.loop.running) await new Promise<void>((res) => this.deps.timers.setTimeout(res, 5));
    const batch = new WriteBatch();
    batch.sync = true;
    for (const b of [keys.raftGroupBounds(rangeId), ...rangeStateBounds(r.desc.current)]) for await (const [k] of this.engine.range(b.gte, b.lt)) batch.del(k);
    try {
      await batch.write(this.engine);
    } finally {
      this.destroying.delete(rangeId);
    }
    this.deps.logger.info({ range: rangeId }, 'replica destroyed');
  }

  send(r: StoreReplica, msgs: readonly Message[]): void {
    let quiesce = this.quiescing.has(r);
    if (quiesce && !r.isLeader()) {
      // It stepped down since it chose to quiesce (ticks caught up after a pause run CheckQuorum
      // with no message in between): quiesced without a leader, the range would never elect one.
      this.quiescing.delete(r);
      quiesce = false;
    }
    for (const msg of msgs) {
      if (msg.kind === 'snap') {
        streamSnapshot(this, r, msg);
        continue;
      }
      const item: RangeMessage = { rangeId: r.rangeId, quiesce: quiesce && msg.kind === 'heartbeat', msg };
      this.transport.send(storeOfReplica(msg.to), item);
    }
    if (quiesce && msgs.some((m) => m.kind === 'heartbeat')) {
      this.quiescing.delete(r);
      r.quiesced = true;
    }
  }

  // ---- Raft traffic and ticks -------------------------------------------------------

  private onRaftFrame(from: number, payload: Uint8Array): void {
    // A leader may answer reads on its lease while it steps these (its first commit of a term releases the waiting ones).
    this.catchUpTicks();
    let items: RangeMessage[];
    try {
      items = decodeFrame(payload);
    } catch (err) {
      // Only bytes we cannot decode are dropped; anything thrown below is a broken invariant and stops the process.
      if (!(err instanceof WireError)) throw err;
      this.metrics.malformedFrames++;
      return;
    }
    this.liveness.heardFrom(from);
    this.transport.heardFrom(from);
    for (const item of items) {
      this.metrics.messagesIn++;
      const r = this.replicas.get(item.rangeId);
      if (!r || item.msg.to !== r.replicaId) {
        this.metrics.unknownRangeMessages++;
        continue;
      }
      // Heartbeat replies carry no news: they must not undo the quiescence they answer.
      if (!item.quiesce && item.msg.kind !== 'heartbeatResp') r.wake();
      r.raw.step(item.msg);
      if (item.quiesce) r.maybeQuiesceFollower(item.msg);
      this.markDirty(r);
    }
  }

  private onUnreachable(store: number): void {
    for (const r of this.replicas.values()) {
      if (!r.isLeader()) continue;
      for (const rep of r.desc.current.replicas) if (rep.store === store) r.raw.reportUnreachable(rep.replicaId);
    }
  }

  /** The loop host's hook: a turn starts reads only after the ticks are up to the clock. */
  beforeTurn(): void {
    this.catchUpTicks();
  }

  /**
   * Ticks follow the monotonic clock, not the timer: every tick the clock
   * says is due is delivered, before a lease is relied on. A timer fires late
   * after a pause (SIGSTOP, a long GC, a blocked loop) and once, whatever it
   * missed; a leader counting those ticks would believe its lease younger
   * than it is, while the followers that promised it their votes have
   * counted the real time and may elect another leader (Raft §6.4.1).
   */
  catchUpTicks(): void {
    const due = Math.floor((this.deps.clock.monotonic() - this.tickEpoch) / this.cfg.tickMs);
    let missed = due - this.ticks;
    if (missed <= 0) return;
    // Beyond two election timeouts more ticks change nothing: every lease has lapsed, and CheckQuorum has run.
    const cap = 2 * this.cfg.electionTick + 1;
    if (missed > cap) {
      this.ticks = due - cap;
      missed = cap;
    }
    for (let i = 0; i < missed; i++) this.tick();
  }

  private tick(): void {
    this.ticks++;
    for (const peer of this.peers.keys()) if (peer !== this.cfg.id) this.transport.ping(peer);
    if (this.ticks % this.cfg.electionTick === 0) this.wakeFollowersOfSilentStores();
    const threshold = this.cfg.compactLogEntries ?? 10_000;
    const checkCompaction = this.ticks % 10 === 0;
    // Only ranges that are not quiesced tick: idle ranges cost nothing per tick.
    for (const r of this.active) {
      if (r.quiesced) {
        this.active.delete(r);
        continue;
      }
      if (checkCompaction && r.applied - r.storage.firstIndex() >= threshold) r.compactTo = r.applied - Math.floor(threshold / 2);
      if (r.maybeRotateDedup(this.rotateEveryTicks)) this.metrics.proposals++;
      if (r.tickQuiesce()) this.quiescing.add(r);
      r.raw.tick();
      this.markDirty(r);
    }
    this.transport.flush();
  }

  /** A quiesced follower whose leader's store went silent must resume elections. */
  private wakeFollowersOfSilentStores(): void {
    const silent = this.liveness.silent(this.peers.keys(), this.cfg.id);
    if (silent.size === 0) return;
    for (const r of this.replicas.values()) {
      if (r.quiesced && silent.has(r.leaderStore())) {
        r.wake();
        this.markDirty(r);
      }
    }
  }

  // ---- services -------------------------------------------------------------------

  kv(reqs: WireKvRequest[]): Promise<WireKvResponse[]> {
    this.metrics.kvRequests += reqs.length;
    return Promise.all(reqs.map((req) => handleKv(this, req)));
  }

  transferLeader(rangeId: number, toStore: number): void {
    const r = this.replicas.get(rangeId);
    if (!r) throw new RangeNotFoundError(`range ${rangeId} is not on store ${this.cfg.id}`);
    const target = r.desc.current.replicas.find((rep) => rep.store === toStore && rep.role === 'voter');
    if (!target) throw new BadRequestError(`range ${rangeId} has no voter on store ${toStore}`);
    r.wake();
    r.raw.transferLeader(target.replicaId);
    this.markDirty(r);
  }

  rangeStatuses(): WireRangeStatus[] {
    return [...this.replicas.values()].map((r) => {
      const s = r.raw.status();
      return { range: r.desc.current, leaderStore: r.leaderStore(), term: s.term, commit: s.commit, applied: r.applied, quiesced: r.quiesced };
    });
  }

  renderMetrics(): Promise<string> {
    return this.metrics.render();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.loop.close();
    if (this.tickTimer) this.deps.timers.clearInterval(this.tickTimer);
    for (const r of this.replicas.values()) r.failAll(new UnavailableError('store closing'));
    this.requestDeadlines.close();
    this.transport.close();
    this.listener?.close();
    // Let an in-flight turn finish its writes before closing the engine.
    while (this.loop.running) await new Promise<void>((res) => this.deps.timers.setTimeout(res, 5));
    await this.engine.close();
  }
}

/** Checks that the data directory belongs to this store id; returns whether it is still unclaimed. */
async function checkDataDir(engine: Engine, cfg: StoreConfig): Promise<boolean> {
  const ident = await engine.get(keys.storeIdentKey());
  if (!ident) return true;
  const owner = Number(Buffer.from(ident).toString());
  if (owner !== cfg.id) throw new Error(`${cfg.dir} holds the data of store ${owner}, not store ${cfg.id}`);
  return false;
}
