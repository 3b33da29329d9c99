/**
 * One simulated server: a RawNode of the real core, its "disk" (a
 * MemoryStorage that only ever holds what a Ready persisted), and the KV state
 * machine. A crash throws away everything but the disk; a restart rebuilds the
 * node from it, as a real process would.
 */
import type { LogIndex, NodeId } from '../common/index.js';
import type { Entry, Message, RaftConfig, ReadState, Ready, Snapshot } from '../raft/index.js';
import { DEFAULT_CONFIG, MemoryStorage, RawNode, sendableBeforePersist } from '../raft/index.js';
import type { SeededRng } from '../runtime/index.js';
import type { ApplyOutcome } from './kv-state-machine.js';
import { KvStateMachine } from './kv-state-machine.js';

/** Callbacks through which a node's host reports what it did to the simulation. */
export interface NodeHooks {
  send(msg: Message): void;
  /** Entries just persisted (for the Log Matching check). */
  persisted(node: SimNode, entries: readonly Entry[]): void;
  applied(node: SimNode, entry: Entry, outcome: ApplyOutcome | undefined): void;
  snapshotApplied(node: SimNode, snap: Snapshot): void;
  readReady(node: SimNode, rs: ReadState): void;
  becameLeader(node: SimNode): void;
}

export interface SimNodeOptions {
  readonly readOnly: RaftConfig['readOnly'];
  /** Take a snapshot (and compact) once this many entries are applied past the first index. */
  readonly snapshotInterval: number;
  /** Small values split appends into many messages (exposes commit-rule and backtracking bugs). */
  readonly maxSizePerMsg: number;
  readonly maxInflightMsgs: number;
}

export class SimNode {
  raw: RawNode | undefined;
  sm: KvStateMachine | undefined;
  /**
   * Set by the nemesis: crash during the next Ready, after the early messages
   * (a leader's appends) went out but before the disk write, or after the disk
   * write but before the other messages.
   */
  crashDuringReady: 'no' | 'beforePersist' | 'afterPersist' = 'no';
  readonly disk: MemoryStorage;
  /** Index up to which the state machine has applied. */
  applied: LogIndex = 0;
  /** Read states waiting for the state machine to catch up. */
  private pendingReads: ReadState[] = [];

  constructor(
    readonly id: NodeId,
    /** Initial voters to bootstrap with, or empty for a node joining later. */
    bootstrapVoters: readonly NodeId[],
    private readonly rng: SeededRng,
    private readonly opts: SimNodeOptions,
    private readonly hooks: NodeHooks,
  ) {
    this.disk = bootstrapVoters.length > 0 ? MemoryStorage.bootstrap(bootstrapVoters) : new MemoryStorage();
    this.start();
  }

  get alive(): boolean {
    return this.raw !== undefined;
  }

  start(): void {
    const snap = this.disk.snapshot();
    this.sm = KvStateMachine.restore(snap.data);
    this.applied = snap.meta.index;
    const cfg: RaftConfig = { ...DEFAULT_CONFIG, id: this.id, applied: this.applied, readOnly: this.opts.readOnly, maxInflightMsgs: this.opts.maxInflightMsgs, maxSizePerMsg: this.opts.maxSizePerMsg };
    this.raw = new RawNode(cfg, this.disk, this.rng);
  }

  crash(): void {
    this.raw = undefined;
    this.sm = undefined;
    this.pendingReads = [];
  }

  /** Persists, sends and applies every Ready until the node is quiet. Returns false if it crashed. */
  processReadies(): boolean {
    while (this.raw && this.raw.hasReady()) {
      const rd = this.raw.ready();
      // As a real host may: a leader's appends go out before its own write lands.
      for (const m of rd.messages) if (sendableBeforePersist(m)) this.hooks.send(m);
      if (this.crashDuringReady === 'beforePersist') return this.crashNow();
      this.persist(rd);
      this.raw.persisted(rd);
      if (this.crashDuringReady === 'afterPersist') return this.crashNow();
      for (const m of rd.messages) if (!sendableBeforePersist(m)) this.hooks.send(m);
      this.apply(rd);
      if (rd.softState?.role === 'leader') this.hooks.becameLeader(this);
      this.raw.advance(rd);
      this.maybeCompact();
    }
    return true;
  }

  private crashNow(): false {
    this.crashDuringReady = 'no';
    this.crash();
    return false;
  }

  private persist(rd: Ready): void {
    if (rd.snapshot) this.disk.applySnapshot(rd.snapshot);
    this.disk.append(rd.entries);
    if (rd.hardState) this.disk.setHardState(rd.hardState);
    if (rd.entries.length > 0) this.hooks.persisted(this, rd.entries);
  }

  private apply(rd: Ready): void {
    if (rd.snapshot) {
      this.sm = KvStateMachine.restore(rd.snapshot.data);
      this.applied = rd.snapshot.meta.index;
      this.hooks.snapshotApplied(this, rd.snapshot);
    }
    for (const e of rd.committedEntries) {
      const outcome = e.type === 'normal' && e.data.byteLength > 0 ? this.sm!.apply(e.index, e.data) : undefined;
      this.applied = e.index;
      this.hooks.applied(this, e, outcome);
    }
    for (const rs of rd.readStates) this.pendingReads.push(rs);
    this.serveReads();
  }

  private serveReads(): void {
    if (this.pendingReads.length === 0) return;
    const ready = this.pendingReads.filter((rs) => rs.index <= this.applied);
    this.pendingReads = this.pendingReads.filter((rs) => rs.index > this.applied);
    for (const rs of ready) this.hooks.readReady(this, rs);
  }

  /** Log compaction (Raft §7): snapshot the state machine at `applied` and drop older entries. */
  private maybeCompact(): void {
    if (this.applied - this.disk.firstIndex() < this.opts.snapshotInterval) return;
    const conf = this.raw!.confStateAt(this.applied);
    this.disk.createSnapshot(this.applied, conf, this.sm!.snapshot());
    // Sometimes keep a tail of entries so slow followers can catch up from the log.
    const keep = this.rng.int(3) === 0 ? 0 : this.rng.int(this.opts.snapshotInterval);
    this.disk.compact(Math.max(this.disk.firstIndex() - 1, this.applied - keep));
  }
}
