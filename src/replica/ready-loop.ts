/**
 * The Ready loop: the one place that drives Raft (etcd's rawnode.go contract,
 * raft-rs's numbered readies) for any number of replicas over one engine. The
 * store runs thousands of ranges through one loop; the simulator runs one
 * replica per simulated node through the same code. Each turn:
 *   1. proposes the writes and starts the read rounds that arrived (batched per replica);
 *   2. gathers the Ready of every replica with work; sends leaders' appends;
 *   3. applies committed entries of all replicas into the batch that persists
 *      their new entries: ONE write with at most one fsync per turn (group
 *      commit; applied index atomic with data and log);
 *   4. sends the other messages;
 *   5. answers clients (before the write when it can, see `turn`), advances.
 * What happens around it belongs to the host (LoopHost): where messages go
 * (snapshots are streamed by the host), what a split or a removal does to the
 * host's map of replicas, what a failed write does to the process, and the
 * turn's view of the engine with the hooks around the applies (ApplyTurn:
 * the store reads ahead every replica's key metadata in one call before
 * them, and teaches its caches once the batch is on disk).
 */
import type { Clock, Timers } from '../runtime/index.js';
import { secondsSince } from '../runtime/index.js';
import type { Message, Ready, SnapshotMeta } from '../raft/index.js';
import { sendableBeforePersist } from '../raft/index.js';
import type { Engine } from '../storage/index.js';
import { WriteBatch } from '../storage/index.js';
import type { ApplyHost, Replica, WriteWaiter } from './replica.js';
import type { EntryResult } from './command.js';
import { stageSnapshotInstall } from './range-snapshot.js';
import type { ApplyView } from './state-machine.js';

/** What the loop asks of the process hosting its replicas. */
export interface LoopHost<Rep extends Replica = Replica> extends ApplyHost {
  /** Sends a replica's messages (a `snap` one is the host's to stream); they leave at `flush`. */
  send(r: Rep, msgs: readonly Message[]): void;
  flush(): void;
  /** After the turn's write: open the ranges `r` split off (`r.createdBySplit`), destroy `r` if it applied its own removal (`r.removed`). */
  afterApply(r: Rep): Promise<void>;
  /** The loop failed (a storage write, a broken invariant): continuing could acknowledge writes that are not durable. */
  fatal(err: unknown): void;
  /** Opens a turn that writes `batch`: its view of the engine and the host's hooks around its applies. */
  beginTurn(batch: WriteBatch): ApplyTurn<Rep>;
  /** Called as a turn starts, before it starts any read: the host brings its replicas' ticks up to the clock (lease reads). */
  beforeTurn?(): void;
}

/** One turn's applies as the host sees them. Its hooks run once per turn, not per replica, where they can. */
export interface ApplyTurn<Rep extends Replica = Replica> {
  /** Where the turn's snapshot installs and applies read and write (staged into the turn's batch). */
  readonly view: ApplyView;
  /** Once, before any apply: every replica with a Ready, with its committed entries decoded. */
  beforeApplies(work: readonly (readonly [Rep, ReturnType<Rep['decodeCommitted']>])[]): Promise<void>;
  /** Before `r` applies `rd` (the replica already handled its soft state). */
  applying(r: Rep, rd: Ready): void;
  /** The turn's batch is on disk (a turn that wrote nothing does not call it). */
  written(): void;
}

/** The counters and histograms the loop feeds (StoreMetrics is one). */
export interface LoopMetrics {
  appliedEntries: number;
  fsyncs: number;
  syncedEntries: number;
  snapshotsInstalled: number;
  compactions: number;
  readonly readiesPerLoop: { sum: number; count: number };
  readonly fsync: { observe(seconds: number): void };
  observeApplied(answers: readonly (readonly [{ readonly proposedAt: number }, unknown])[], nowMs: number): void;
  observeReads(startedAt: readonly number[], nowMs: number): void;
}

/**
 * A checker's view of the loop (the simulator's safety checks and crash
 * points). Absent in production, where it costs one `if` per turn and per Ready.
 */
export interface ReadyObserver<Rep extends Replica = Replica> {
  /** The turn's batch (entries, hard states, applied data) is about to be written; the leaders' appends are already out. */
  persisting(): void;
  /** `rd` of `r` is durable, committed entries applied, before its other messages go out. */
  persisted(r: Rep, rd: Ready): void;
}

export class ReadyLoop<Rep extends Replica = Replica> {
  private readonly dirty = new Set<Rep>();
  private scheduled = false;
  private inTurn = false;
  private closed = false;

  constructor(
    private readonly engine: Engine,
    private readonly host: LoopHost<Rep>,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly metrics: LoopMetrics,
    private readonly observer?: ReadyObserver<Rep>,
  ) {}

  /** Turns are running (a batch write may still be in flight). */
  get running(): boolean {
    return this.inTurn;
  }

  /** `r` has work (a message, a tick, a request): it joins the next turn. */
  markDirty(r: Rep): void {
    if (r.destroyed) return;
    this.dirty.add(r);
    if (!this.scheduled && !this.inTurn) {
      this.scheduled = true;
      this.timers.setImmediate(() => void this.run());
    }
  }

  /** `r` is being destroyed: no turn may persist it again. */
  forget(r: Rep): void {
    this.dirty.delete(r);
  }

  /** No turn starts after this one; the host waits for `running` to clear before closing the engine. */
  close(): void {
    this.closed = true;
  }

  private async run(): Promise<void> {
    this.scheduled = false;
    if (this.inTurn || this.closed) return;
    this.inTurn = true;
    try {
      while (this.dirty.size > 0 && !this.closed) {
        await this.turn();
        // The batch write resolved from the poll phase, ahead of sockets that were ready with it:
        // let them be read first, so what they carry joins the next turn instead of the one after.
        if (this.dirty.size > 0) await new Promise<void>((resolve) => this.timers.setImmediate(resolve));
      }
    } catch (err) {
      this.host.fatal(err);
    } finally {
      this.inTurn = false;
    }
  }

  /** Hands applied results back to their waiters. */
  private answer(answers: readonly (readonly [WriteWaiter, EntryResult<unknown>])[]): void {
    for (const [waiter, result] of answers) waiter.resolve(result);
    this.metrics.observeApplied(answers, this.clock.monotonic());
  }

  private async turn(): Promise<void> {
    this.host.beforeTurn?.();
    const dirty = [...this.dirty];
    this.dirty.clear();
    const work: [Rep, Ready][] = [];
    const batch = new WriteBatch();
    const turn = this.host.beginTurn(batch);
    let entries = 0;
    const started = this.clock.monotonic();
    for (const r of dirty) {
      r.flushRequests(started);
      if (!r.raw.hasReady()) continue;
      const rd = r.raw.ready();
      r.storage.stage(batch, rd);
      if (rd.snapshot) await stageSnapshotInstall(r, rd, turn.view);
      entries += rd.entries.length;
      work.push([r, rd]);
    }
    const compacted = stageCompactions(dirty, batch);
    if (work.length === 0 && compacted.length === 0) return;
    // A leader's appends and heartbeats leave now: followers persist while we do.
    for (const [r, rd] of work) this.host.send(r, rd.messages.filter(sendableBeforePersist));
    this.host.flush();
    this.metrics.readiesPerLoop.sum += work.length;
    this.metrics.readiesPerLoop.count++;
    // Committed entries are applied into the same batch that persists the new ones: one
    // write per turn, atomic, so a crash keeps both or neither (and the applied
    // index never runs ahead of the log it came from).
    const answers = [];
    const decoded = work.map(([r, rd]) => [r, r.decodeCommitted(rd) as ReturnType<Rep['decodeCommitted']>] as const);
    await turn.beforeApplies(decoded);
    for (const [i, [r, rd]] of work.entries()) {
      r.onSoftState(rd);
      turn.applying(r, rd);
      answers.push(...(await r.apply(rd, decoded[i][1], turn.view, this.engine, batch, this.host)));
      this.metrics.appliedEntries += rd.committedEntries.length;
      r.collectReadStates(rd);
    }
    // A committed entry is durable on a quorum already (a leader counts its own log only once it is
    // persisted), so its result can go back while this batch is written: nothing reads the state it
    // wrote before the batch lands, since the next turn starts and this turn's reads are released
    // only after it. Saves a LevelDB write's latency per write. A turn that split or removed a
    // replica answers after the host has opened or destroyed what that changed, as before.
    const answerEarly = work.every(([r]) => r.createdBySplit.length === 0 && !r.removed);
    if (answerEarly) this.answer(answers);
    if (this.observer) this.observer.persisting();
    if (batch.size > 0) {
      const writeStart = this.clock.monotonic();
      await batch.write(this.engine);
      turn.written();
      if (batch.sync) {
        this.metrics.fsyncs++;
        this.metrics.syncedEntries += entries;
        this.metrics.fsync.observe(secondsSince(writeStart, this.clock.monotonic()));
      }
    }
    for (const [r, meta] of compacted) r.storage.onCompacted(meta);
    this.metrics.compactions += compacted.length;
    for (const [r, rd] of work) {
      r.storage.onPersisted(rd);
      r.appliedWritten();
      r.raw.persisted(rd);
      if (this.observer) this.observer.persisted(r, rd);
      this.host.send(r, rd.messages.filter((m) => !sendableBeforePersist(m)));
    }
    this.host.flush();

    for (const [r] of work) if (r.createdBySplit.length > 0 || r.removed) await this.host.afterApply(r);
    if (!answerEarly) this.answer(answers);
    const now = this.clock.monotonic();
    for (const [r, rd] of work) {
      if (rd.snapshot && r.incomingSnapshot?.index === rd.snapshot.meta.index) {
        this.metrics.snapshotsInstalled++;
        r.incomingSnapshot.done.resolve();
        r.incomingSnapshot = undefined;
      }
      r.raw.advance(rd);
      this.metrics.observeReads(r.releaseReads(), now);
      if (!r.destroyed && (r.hasWork() || r.raw.hasReady())) this.dirty.add(r);
    }
  }
}

/** Log compaction (Raft §7) requested by the host's tick (`compactTo`), staged into this turn's batch. */
function stageCompactions<Rep extends Replica>(dirty: Rep[], batch: WriteBatch): [Rep, SnapshotMeta][] {
  const out: [Rep, SnapshotMeta][] = [];
  for (const r of dirty) {
    if (r.compactTo === 0) continue;
    const index = Math.min(r.compactTo, r.applied);
    r.compactTo = 0;
    const meta = r.storage.stageCompaction(batch, index, r.raw.confStateAt(index));
    if (meta) out.push([r, meta]);
  }
  return out;
}
