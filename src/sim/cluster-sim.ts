/**
 * The whole-cluster simulator, first stage: real `Store` processes (the same
 * code `raftshard store` runs: event loop, Raft, apply, exactly-once records,
 * snapshots, quiescence, liveness) over in-memory twins of every I/O: the
 * LoopbackNetwork, a MemoryEngine disk per store that survives its crashes,
 * and simulated time (SimScheduler). One seed drives everything, so a run
 * replays bit for bit; its digest says so.
 *
 * A run: clients do get/put/delete/cas on a few keys spread over several
 * ranges, through src/txn's transaction client as the gateway runs `/kv`
 * (writes at shared TSO timestamps, gets of the newest state, and snapshot
 * gets at a transaction's start, held to real time); a nemesis cuts stores off (both ways, or one link one way), heals them, crashes
 * stores (losing the process, keeping the disk) and restarts them, and pauses
 * stores (SIGSTOP: timers held while the clock runs on, what is sent to them
 * meanwhile delivered late, on resume) and resumes them, slows a store's disk
 * down for a while, and fails a store's fsync (the process exits, as the
 * store does on a failed write, and is restarted). Then
 * everything heals and every client must finish within a bound; a final read
 * of every key joins the history, which must be linearizable.
 *
 * The bank workload runs transactions through the same client (a simulated
 * TSO, routing as the gateway does in sim-sender.ts): transfers commit in two
 * phases across ranges while coordinators are cut off and crashed with their
 * stores, one in fifty is abandoned by its coordinator after its prewrites or
 * after its primary's commit (left for readers to resolve), and every
 * snapshot read must sum to the total.
 *
 * Not yet simulated (the next stages of ISSUE 8 §4): the placement driver and
 * the gateway's router, splits and moves, message
 * duplication (the streams are TCP's: delayed and in order, lost only when cut).
 */
import { createHash } from 'node:crypto';
import type { RangeDescriptor } from '../common/index.js';
import { rangesFromSplits, replicaIdFor } from '../replica/index.js';
import { SeededRng, silentLogger, SimScheduler } from '../runtime/index.js';
import type { Timers } from '../runtime/index.js';
import { Store } from '../store/index.js';
import { LoopbackNetwork } from '../transport/index.js';
import type { WireKvResponse } from '../transport/index.js';
import type { HistoryOp } from './clients.js';
import { checkHistory } from './history-check.js';
import type { KvCommand, KvResult } from './kv-state-machine.js';
import { CrashableDisk, DiskFault } from './crashable-engine.js';
import { SimRangeSender } from './sim-sender.js';
import { checkBank, checkListAppend, describeAnomaly } from './txn-checkers.js';
import type { BankRead, ListAppendOp, ListAppendTxn, TxnStatus } from './txn-checkers.js';
import { sendCommand, sendPerRange, TxnClient } from '../txn/index.js';
import type { Mutation } from '../txn/index.js';
import { composeTimestamp, DbError, UnavailableError } from '../common/index.js';
import type { Timestamp } from '../common/index.js';

export interface ClusterSimOptions {
  readonly seed: number;
  readonly stores: number;
  readonly clients: number;
  /** Virtual milliseconds of the fault phase. */
  readonly faultMs: number;
  /** Virtual milliseconds allowed, once healed, for every client to finish. */
  readonly livenessMs: number;
  /**
   * kv: single-key get/put/delete/cas, checked for linearizability. bank:
   * transactions (src/txn's client, two-phase across ranges) moving money
   * between the keys' accounts while others read every balance in one
   * snapshot; every snapshot must sum to the total.
   */
  readonly workload: ClusterWorkload;
}

/** `kv`: single-key operations, linearizable; `bank`: transfers, every snapshot sums to the total; `append`: list-append transactions, Elle's checker. */
export type ClusterWorkload = 'kv' | 'bank' | 'append';

export const DEFAULT_CLUSTER_SIM: Omit<ClusterSimOptions, 'seed'> = { stores: 3, clients: 4, faultMs: 20_000, livenessMs: 30_000, workload: 'kv' };

export interface ClusterSimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly failure?: string;
  /** A hash of the client history and the number of scheduled events: equal for equal seeds. */
  readonly digest: string;
  readonly stats: { ops: number; unknown: number; crashes: number; cuts: number; pauses: number; diskFaults: number; events: number; committed: number; conflicts: number; abandoned: number };
}

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];
/** The bank workload: every key is an account opened with this balance. */
const BALANCE = 100;
const SPLITS = ['c', 'e'].map((k) => new TextEncoder().encode(k));
const TICK_MS = 50;
const ELECTION_TICK = 10;
/** A client gives up on an operation after this long, as the gateway's deadline does; its outcome is then unknown. */
const OP_DEADLINE_MS = 10_000;
const ATTEMPT_MS = 2_000;
/** Exactly-once records rotate often enough to be exercised, and no faster than a client retries (OP_DEADLINE_MS). */
const DEDUP_ROTATE_MS = 15_000;
const enc = new TextEncoder();
const dec = new TextDecoder();

interface SimStore {
  readonly id: number;
  readonly address: string;
  readonly disk: CrashableDisk;
  store: Store | undefined;
  timers: (Timers & { kill(): void; pause(): void; resume(): void }) | undefined;
  cut: boolean;
  /** SIGSTOP: its timers wait while the clock runs on; what is sent to it meanwhile is lost. */
  paused: boolean;
}

export class ClusterSim {
  readonly time = new SimScheduler();
  private readonly rng: SeededRng;
  private readonly nemesisRng: SeededRng;
  private readonly network: LoopbackNetwork;
  private readonly world: Timers;
  private readonly stores = new Map<number, SimStore>();
  private readonly peers = new Map<number, string>();
  private readonly ranges: RangeDescriptor[];
  readonly history: HistoryOp[] = [];
  private busy = 0;
  /** Invocation and response stamps of the history: unique and in real-time order. */
  private logical = 0;
  private stopClients = false;
  private fatal: string | undefined;
  /** The one-way cut in force, if any (from, to). */
  private oneWay: [SimStore, SimStore] | undefined;
  readonly stats = { ops: 0, unknown: 0, crashes: 0, cuts: 0, pauses: 0, diskFaults: 0, events: 0, committed: 0, conflicts: 0, abandoned: 0 };
  /** The bank workload's snapshot reads, in the order they completed. */
  readonly bankReads: BankRead[] = [];
  /** The list-append workload's transactions, in the order they ended; each appends elements unique in the run. */
  readonly appends: ListAppendTxn[] = [];
  private lastElement = 0;
  private lastTs = 0n;
  private txns: TxnClient | undefined;

  constructor(readonly opts: ClusterSimOptions) {
    const root = new SeededRng(opts.seed);
    this.rng = root.fork();
    this.nemesisRng = root.fork();
    this.world = this.time.scope();
    const wire = root.fork();
    // Mostly a few milliseconds on the wire, now and then a long stall.
    this.network = new LoopbackNetwork(this.world, () => (wire.chance(0.005) ? 100 + wire.int(500) : 1 + wire.int(8)));
    const ids = Array.from({ length: opts.stores }, (_, i) => i + 1);
    for (const id of ids) {
      const address = `10.0.0.${id}:7000`;
      this.peers.set(id, address);
      this.stores.set(id, { id, address, disk: new CrashableDisk(this.world, root.fork()), store: undefined, timers: undefined, cut: false, paused: false });
    }
    // Each range on three consecutive stores, so that with more stores the ranges spread.
    this.ranges = rangesFromSplits(SPLITS, ids.slice(0, 3)).map((d, i) => ({
      ...d,
      replicas: [0, 1, 2].map((k) => {
        const store = ids[(i + k) % ids.length];
        return { store, replicaId: replicaIdFor(store, 1), role: 'voter' };
      }),
    }));
  }

  async run(): Promise<ClusterSimResult> {
    let failure: string | undefined;
    try {
      for (const s of this.stores.values()) await this.start(s, true);
      if (this.opts.workload === 'bank') failure = await this.openBank();
      const client = { kv: (c: number) => this.client(c), bank: (c: number) => this.bankClient(c), append: (c: number) => this.appendClient(c) }[this.opts.workload];
      for (let c = 0; c < this.opts.clients; c++) void client(c);
      this.nemesis();
      await this.time.runUntil(this.opts.faultMs, () => this.fatal !== undefined || failure !== undefined);
      failure ??= this.fatal ?? (await this.healAndFinish());
      failure ??= this.fatal ?? this.check();
    } catch (err) {
      failure = `t=${this.time.monotonic()} ms: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
    } finally {
      for (const s of this.stores.values()) s.timers?.kill();
    }
    this.stats.events = this.time.steps;
    return { seed: this.opts.seed, ok: failure === undefined, failure, digest: this.digest(), stats: this.stats };
  }

  // ---- processes ----------------------------------------------------------------------

  private async start(s: SimStore, first: boolean): Promise<void> {
    const timers = this.time.scope();
    s.timers = timers;
    const store = await Store.open(
      { id: s.id, dir: `sim-store-${s.id}`, listen: s.address, peers: this.peers, tickMs: TICK_MS, electionTick: ELECTION_TICK, dedupRotateMs: DEDUP_ROTATE_MS },
      {
        engine: s.disk.open(),
        network: this.network.viewFrom(s.address),
        clock: this.time,
        timers,
        rng: new SeededRng(this.rng.nextU32()),
        logger: silentLogger,
        tso: () => this.tso(1),
        // A failed fsync ends the process (it cannot know what is durable); its supervisor restarts it.
        fatal: (err) => {
          if (!(err instanceof DiskFault)) this.fatal = `store ${s.id}: the event loop failed: ${err instanceof Error ? err.message : String(err)}`;
          else if (s.timers === timers) {
            this.crash(s);
            this.world.setTimeout(() => this.restart(s), 300 + this.nemesisRng.int(2_000));
          }
        },
      },
    );
    s.store = store;
    if (first) {
      await store.claimDataDir();
      for (const r of this.ranges) if (r.replicas.some((rep) => rep.store === s.id)) await store.createReplica(r, true);
    }
  }

  /** kill -9: the process and its timers go, its disk stays as the last write left it. */
  private crash(s: SimStore): void {
    s.timers?.kill();
    s.disk.crash();
    this.network.crash(s.address);
    // A dead process is not paused any more; its next incarnation starts running.
    if (s.paused) {
      s.paused = false;
      this.network.hold(s.address, false);
    }
    s.store = undefined;
    s.timers = undefined;
    this.stats.crashes++;
  }

  // ---- nemesis --------------------------------------------------------------------------

  private nemesis(): void {
    const r = this.nemesisRng;
    const act = () => {
      if (this.time.monotonic() >= this.opts.faultMs) return;
      const all = [...this.stores.values()];
      const impaired = all.filter((s) => s.cut || s.paused || s.timers === undefined);
      const healthy = all.filter((s) => !s.cut && !s.paused && s.timers !== undefined);
      // A minority at a time, mostly, so that the run makes progress; now and then a majority, to see it recover.
      const budget = Math.floor((all.length - 1) / 2) + (r.chance(0.1) ? 1 : 0);
      // A healthy store to strike, while the budget allows.
      const victim = () => (impaired.length < budget && healthy.length > 0 ? r.pick(healthy) : undefined);
      switch (r.int(9)) {
        case 7: {
          // A slow disk for a while: every synced batch of the victim takes 20–300 ms.
          const v = r.pick(all);
          v.disk.slowWrites(() => 20 + r.int(280));
          this.stats.diskFaults++;
          this.world.setTimeout(() => v.disk.slowWrites(undefined), 500 + r.int(3_000));
          break;
        }
        case 8: {
          // An fsync error: the victim's next write fails, and the process exits (then restarts).
          const v = victim();
          if (v) {
            v.disk.failNextWrite();
            this.stats.diskFaults++;
          }
          break;
        }
        case 6: {
          // One way only: the victim still hears the other store but is not heard by it.
          const v = this.oneWay === undefined ? victim() : undefined;
          const other = v && r.pick(all.filter((s) => s !== v));
          if (v && other) {
            this.oneWay = [v, other];
            this.network.cutLink(v.address, other.address, true);
            this.stats.cuts++;
            this.world.setTimeout(() => {
              this.network.cutLink(v.address, other.address, false);
              this.oneWay = undefined;
            }, 200 + r.int(3_000));
          }
          break;
        }
        case 0:
        case 1: {
          const v = victim();
          if (v) this.cutOff(v);
          break;
        }
        case 5: {
          const v = victim();
          if (v) {
            this.pause(v);
            this.world.setTimeout(() => this.resume(v), 200 + r.int(4_000));
          }
          break;
        }
        case 2: {
          const v = victim();
          if (v) {
            this.crash(v);
            this.world.setTimeout(() => this.restart(v), 300 + r.int(3_000));
          }
          break;
        }
        default: {
          const cut = all.filter((s) => s.cut);
          if (cut.length > 0) this.heal(r.pick(cut));
        }
      }
      this.world.setTimeout(act, 200 + r.int(1_500));
    };
    this.world.setTimeout(act, 500 + r.int(1_000));
  }

  /** A supervisor restarting a crashed process (unless it already runs again). */
  private restart(s: SimStore): void {
    if (s.timers !== undefined) return;
    this.start(s, false).catch((err: unknown) => (this.fatal = `store ${s.id} failed to restart: ${err instanceof Error ? err.message : String(err)}`));
  }

  private cutOff(s: SimStore): void {
    s.cut = true;
    this.network.cut(s.address, true);
    this.stats.cuts++;
  }

  private heal(s: SimStore): void {
    s.cut = false;
    this.network.cut(s.address, false);
  }

  /** SIGSTOP: its timers stop while the clock runs on; what is sent to it waits in the network, as in socket buffers. */
  private pause(s: SimStore): void {
    s.paused = true;
    s.timers!.pause();
    this.network.hold(s.address, true);
    this.stats.pauses++;
  }

  /** SIGCONT: it wakes to a late clock and to everything sent to it meanwhile. */
  private resume(s: SimStore): void {
    if (!s.paused) return;
    s.paused = false;
    s.timers?.resume();
    this.network.hold(s.address, false);
  }

  /** Heals every fault, waits for the clients, and reads every key once more. */
  private async healAndFinish(): Promise<string | undefined> {
    if (this.oneWay) this.network.cutLink(this.oneWay[0].address, this.oneWay[1].address, false);
    for (const s of this.stores.values()) {
      if (s.cut) this.heal(s);
      this.resume(s);
      s.disk.heal();
      if (s.timers === undefined) await this.start(s, false);
    }
    this.stopClients = true;
    const deadline = this.time.monotonic() + this.opts.livenessMs;
    await this.time.runUntil(deadline, () => this.busy === 0 || this.fatal !== undefined);
    if (this.fatal) return this.fatal;
    if (this.busy > 0) return `liveness: ${this.busy} clients still busy ${this.opts.livenessMs} ms after healing`;
    if (this.opts.workload === 'bank') return this.finalSnapshot();
    if (this.opts.workload === 'append') return this.finalAppendRead();
    const finals = KEYS.map((key) => this.perform(-1, { op: 'get', key }));
    let all = false;
    void Promise.all(finals).then(() => (all = true));
    await this.time.runUntil(this.time.monotonic() + this.opts.livenessMs, () => all || this.fatal !== undefined);
    if (!all) return `liveness: the final reads did not finish within ${this.opts.livenessMs} ms`;
    const lost = this.history.filter((h) => h.clientId === -1 && h.output === undefined);
    if (lost.length > 0) return `liveness: a final read gave no answer (${lost.map((h) => h.input.key).join(', ')})`;
    return undefined;
  }

  // ---- clients --------------------------------------------------------------------------

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => this.world.setTimeout(r, ms));
  }

  private async client(index: number): Promise<void> {
    const r = this.rng.fork();
    while (!this.stopClients && this.fatal === undefined) {
      await this.sleep(r.int(100));
      if (this.stopClients) break;
      const key = r.pick(KEYS);
      const value = `${index}.${this.stats.ops}`;
      const n = r.int(10);
      const input: KvCommand = n < 4 ? { op: 'get', key } : n < 7 ? { op: 'put', key, value } : n < 8 ? { op: 'delete', key } : { op: 'cas', key, expect: r.chance(0.5) ? null : `${r.int(4)}.${r.int(40)}`, value: r.chance(0.2) ? null : value };
      this.busy++;
      await this.perform(index, input, n < 2);
      this.busy--;
    }
  }

  /**
   * One operation through the transaction client, as the gateway runs `/kv`:
   * a write at a TSO timestamp, a get of the newest state, or (`snapshot`) a
   * get inside a transaction at its start timestamp. A snapshot read is
   * linearized when its timestamp was issued, so the checker also holds the
   * snapshots to real time. An error leaves the outcome unknown.
   */
  private async perform(clientId: number, input: KvCommand, snapshot = false): Promise<void> {
    const op: HistoryOp = { clientId, input, output: undefined, call: ++this.logical, ret: Number.POSITIVE_INFINITY };
    this.history.push(op);
    this.stats.ops++;
    try {
      op.output = await this.runKv(input, snapshot);
      op.ret = ++this.logical;
    } catch (err) {
      if (!(err instanceof DbError)) throw err;
      this.stats.unknown++;
    }
  }

  private async runKv(input: KvCommand, snapshot: boolean): Promise<KvResult> {
    const client = this.txnClient();
    const key = enc.encode(input.key);
    const text = (found: boolean, value: Uint8Array) => (found ? dec.decode(value) : null);
    switch (input.op) {
      case 'get': {
        if (snapshot) {
          const value = await (await client.begin()).get(key);
          return { value: value === undefined ? null : dec.decode(value) };
        }
        const res = answered(await client.read({ op: 'get', key }));
        return { value: text(res.found, res.value) };
      }
      case 'put':
        answered(await client.write({ op: 'put', key, value: enc.encode(input.value), hasValue: true }));
        return { ok: true };
      case 'delete':
        answered(await client.write({ op: 'delete', key }));
        return { ok: true };
      case 'cas': {
        const { value, expect } = input;
        const res = await client.write({ op: 'cas', key, hasValue: value !== null, value: value === null ? undefined : enc.encode(value), hasExpect: expect !== null, expect: expect === null ? undefined : enc.encode(expect) });
        if (res.error === 'CONFLICT') return { ok: false, current: text(res.found, res.value) };
        return { ok: true, current: text(answered(res).found, res.value) };
      }
    }
  }

  // ---- the transaction client (both workloads) and the bank ----------------------------

  /** The placement driver's TSO, without its faults: strictly increasing, a millisecond or two away. */
  private async tso(count: number): Promise<Timestamp> {
    await this.sleep(1 + this.rng.int(2));
    const now = composeTimestamp(this.time.now(), 0);
    const first = now > this.lastTs ? now : this.lastTs + 1n;
    this.lastTs = first + BigInt(count) - 1n;
    return first;
  }

  private txnClient(): TxnClient {
    const sender = new SimRangeSender(this.network, this.ranges, this.peers, this.time, this.world, OP_DEADLINE_MS, ATTEMPT_MS);
    this.txns ??= new TxnClient(sender, (n) => this.tso(n), this.time, this.world, { deadlineMs: OP_DEADLINE_MS, lockTtlMs: 3_000 });
    return this.txns;
  }

  /** Every account starts with BALANCE, in one transaction before any fault. */
  private async openBank(): Promise<string | undefined> {
    let outcome: string | undefined = 'the accounts were not opened in time';
    const open = async () => {
      const txn = await this.txnClient().begin();
      for (const k of KEYS) txn.put(enc.encode(k), enc.encode(String(BALANCE)));
      await txn.commit();
      outcome = undefined;
    };
    let done = false;
    void open()
      .catch((err: Error) => (outcome = `opening the accounts failed: ${err.message}`))
      .finally(() => (done = true));
    await this.time.runUntil(this.time.monotonic() + OP_DEADLINE_MS, () => done);
    return outcome;
  }

  /** Transfers between two accounts (most across ranges), or a snapshot read of every balance. */
  private async bankClient(index: number): Promise<void> {
    const r = this.rng.fork();
    while (!this.stopClients && this.fatal === undefined) {
      await this.sleep(r.int(100));
      if (this.stopClients) break;
      this.busy++;
      this.stats.ops++;
      try {
        if (index === 0 || r.chance(0.3)) await this.snapshotRead();
        else if (r.chance(0.02)) await this.abandonedTransfer(r.pick(KEYS), r.pick(KEYS), 1 + r.int(20), r.chance(0.5) ? 'prewrite' : 'primary');
        else await this.transfer(r.pick(KEYS), r.pick(KEYS), 1 + r.int(20));
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'WRITE_CONFLICT') this.stats.conflicts++;
        else if (code === 'OUTCOME_UNKNOWN') this.stats.unknown++;
        else if (code !== 'UNAVAILABLE') this.fatal = `bank client ${index}: ${(err as Error).message}`;
      }
      this.busy--;
    }
  }

  private async transfer(from: string, to: string, amount: number): Promise<void> {
    if (from === to) return;
    const txn = await this.txnClient().begin();
    const [a, b] = await Promise.all([txn.get(enc.encode(from)), txn.get(enc.encode(to))]);
    const [x, y] = [Number(dec.decode(a!)), Number(dec.decode(b!))];
    const moved = Math.min(x, amount);
    txn.put(enc.encode(from), enc.encode(String(x - moved)));
    txn.put(enc.encode(to), enc.encode(String(y + moved)));
    await txn.commit();
    this.stats.committed++;
  }

  /**
   * A transfer whose coordinator dies at a chosen point, driven command by
   * command as TxnClient does it: after prewriting both keys (never committed:
   * its locks expire and readers roll it back), or after committing the
   * primary alone (committed: readers roll the secondary forward). Nothing
   * follows: no heartbeat, no rollback, no commit of the secondary.
   */
  private async abandonedTransfer(from: string, to: string, amount: number, point: 'prewrite' | 'primary'): Promise<void> {
    if (from === to) return;
    const client = this.txnClient();
    const txn = await client.begin();
    const [a, b] = await Promise.all([txn.get(enc.encode(from)), txn.get(enc.encode(to))]);
    const [x, y] = [Number(dec.decode(a!)), Number(dec.decode(b!))];
    const moved = Math.min(x, amount);
    const mutations: Mutation[] = [
      { kind: 'put' as const, key: enc.encode(from), value: enc.encode(String(x - moved)) },
      { kind: 'put' as const, key: enc.encode(to), value: enc.encode(String(y + moved)) },
    ].sort((m, n) => Buffer.compare(m.key, n.key));
    const primary = mutations[0].key;
    const prewrites = await sendPerRange(client.sender, [primary, mutations[1].key], (keys) => ({
      kind: 'prewrite',
      startTs: txn.startTs,
      primary,
      ttlMs: client.options.lockTtlMs,
      mutations: mutations.filter((m) => keys.some((k) => Buffer.compare(k, m.key) === 0)),
      onePc: false,
      floor: 0n,
    }));
    this.stats.abandoned++;
    if (point === 'prewrite' || prewrites.some((p) => p.result.kind !== 'ok')) return;
    const commitTs = await client.tso.next();
    const res = await sendCommand(client.sender, primary, { kind: 'commit', startTs: txn.startTs, commitTs, keys: [primary] });
    if (res.kind === 'ok') this.stats.committed++;
  }

  private async snapshotRead(): Promise<void> {
    const txn = await this.txnClient().begin();
    const values = await Promise.all(KEYS.map((k) => txn.get(enc.encode(k))));
    this.bankReads.push({ id: this.bankReads.length, balances: Object.fromEntries(KEYS.map((k, i) => [k, values[i] === undefined ? Number.NaN : Number(dec.decode(values[i]!))])) });
  }

  /** Once healed, one more snapshot must be readable (whatever dead coordinators left is resolved). */
  private async finalSnapshot(): Promise<string | undefined> {
    let done = false;
    let error: string | undefined;
    void this.snapshotRead()
      .catch((err: Error) => (error = err.message))
      .finally(() => (done = true));
    await this.time.runUntil(this.time.monotonic() + this.opts.livenessMs, () => done || this.fatal !== undefined);
    if (!done) return `liveness: the final snapshot read did not finish within ${this.opts.livenessMs} ms`;
    return error === undefined ? undefined : `liveness: the final snapshot read failed: ${error}`;
  }

  // ---- list-append (Elle) ----------------------------------------------------------------

  /** Transactions of 1–4 steps, each a read of a key's list or an append of a new element to it (read, then write back). */
  private async appendClient(index: number): Promise<void> {
    const r = this.rng.fork();
    while (!this.stopClients && this.fatal === undefined) {
      await this.sleep(r.int(100));
      if (this.stopClients) break;
      const steps = Array.from({ length: 1 + r.int(4) }, () => ({ key: r.pick(KEYS), append: r.chance(0.5) ? ++this.lastElement : undefined }));
      const viaKv = r.chance(0.3);
      this.busy++;
      this.stats.ops++;
      const status = viaKv ? await this.kvAppend(index, steps[0].key, ++this.lastElement) : await this.appendTxn(index, steps);
      if (status === 'ok') this.stats.committed++;
      this.busy--;
    }
  }

  /**
   * Runs one list-append transaction and records it. A conflict and a 503
   * (UNAVAILABLE) record it as failed, which the checker holds to: none of its
   * appends may ever be seen.
   */
  private async appendTxn(clientId: number, steps: readonly { key: string; append: number | undefined }[]): Promise<TxnStatus> {
    const invokedAt = ++this.logical;
    const ops: ListAppendOp[] = [];
    let status: TxnStatus = 'ok';
    try {
      const txn = await this.txnClient().begin();
      for (const { key, append } of steps) {
        const raw = await txn.get(enc.encode(key));
        const list = raw === undefined ? [] : dec.decode(raw).split(',').map(Number);
        if (append === undefined) {
          ops.push({ f: 'r', key, value: raw === undefined ? null : list });
        } else {
          txn.put(enc.encode(key), enc.encode([...list, append].join(',')));
          ops.push({ f: 'append', key, value: append });
        }
      }
      await txn.commit();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'WRITE_CONFLICT') this.stats.conflicts++;
      if (code === 'OUTCOME_UNKNOWN') this.stats.unknown++;
      if (code === 'WRITE_CONFLICT' || code === 'UNAVAILABLE') status = 'fail';
      else if (code === 'OUTCOME_UNKNOWN') status = 'unknown';
      else this.fatal = `list-append client ${clientId}: ${(err as Error).message}`;
    }
    this.appends.push({ id: this.appends.length, status, ops, invokedAt, completedAt: ++this.logical });
    return status;
  }

  /**
   * An append through `/kv` alone: a get, then a cas from that list to the
   * list with the element, again on a conflict. A cas that applied read and
   * wrote the key atomically, so it is recorded as a transaction of that read
   * and the append: `/kv` writes join the same real-time order as the
   * transactions (a transaction that starts before a `/kv` write must not
   * see it).
   */
  private async kvAppend(clientId: number, key: string, element: number): Promise<TxnStatus> {
    const invokedAt = ++this.logical;
    const client = this.txnClient();
    const k = enc.encode(key);
    let status: TxnStatus = 'fail';
    let ops: ListAppendOp[] = [];
    try {
      for (let attempt = 0; attempt < 5 && status === 'fail'; attempt++) {
        const res = answered(await client.read({ op: 'get', key: k }));
        const list = res.found ? dec.decode(res.value).split(',').map(Number) : [];
        const cas = await client.write({ op: 'cas', key: k, hasExpect: res.found, expect: res.found ? res.value : undefined, hasValue: true, value: enc.encode([...list, element].join(',')) });
        if (cas.error === 'CONFLICT') continue;
        answered(cas);
        ops = [{ f: 'r', key, value: res.found ? list : null }, { f: 'append', key, value: element }];
        status = 'ok';
      }
    } catch (err) {
      if (!(err instanceof DbError)) throw err;
      // The cas may have applied: its append may be seen, its read is not known.
      status = 'unknown';
      ops = [{ f: 'append', key, value: element }];
      this.stats.unknown++;
    }
    if (status === 'fail') this.stats.conflicts++;
    this.appends.push({ id: this.appends.length, status, ops, invokedAt, completedAt: ++this.logical });
    return status;
  }

  /** Once healed, a read of every list must commit. */
  private async finalAppendRead(): Promise<string | undefined> {
    let status: TxnStatus | undefined;
    void this.appendTxn(-1, KEYS.map((key) => ({ key, append: undefined }))).then((s) => (status = s));
    await this.time.runUntil(this.time.monotonic() + this.opts.livenessMs, () => status !== undefined || this.fatal !== undefined);
    if (status === undefined) return `liveness: the final read of every list did not finish within ${this.opts.livenessMs} ms`;
    return status === 'ok' ? undefined : `liveness: the final read of every list ended ${status}`;
  }

  /** The workload's own check of the history. */
  private check(): string | undefined {
    switch (this.opts.workload) {
      case 'kv':
        return checkHistory(this.history);
      case 'bank':
        return this.checkBank();
      case 'append': {
        // Snapshots respect real time: a transaction sees every one answered before it started.
        const res = checkListAppend(this.appends, { realtime: true });
        return res.ok ? undefined : `list-append: ${res.anomalies.slice(0, 3).map(describeAnomaly).join('; ')}`;
      }
    }
  }

  private checkBank(): string | undefined {
    const initial = Object.fromEntries(KEYS.map((k) => [k, BALANCE]));
    const res = checkBank(initial, this.bankReads);
    return res.ok ? undefined : `bank: ${res.anomalies.slice(0, 3).map(describeAnomaly).join('; ')}`;
  }

  private digest(): string {
    const h = createHash('sha256');
    for (const op of this.history) h.update(JSON.stringify([op.clientId, op.input, op.output ?? null, op.call, Number.isFinite(op.ret) ? op.ret : -1]));
    for (const read of this.bankReads) h.update(JSON.stringify(read.balances));
    for (const txn of this.appends) h.update(JSON.stringify([txn.status, txn.ops]));
    h.update(String(this.time.steps));
    return h.digest('hex').slice(0, 16);
  }
}

/** The answer of a request that must succeed: an error code leaves the outcome unknown; a refusal is a bug. */
function answered(res: WireKvResponse): WireKvResponse {
  if (res.error === 'BAD_REQUEST') throw new Error(`a store refused a well-formed request: ${res.message}`);
  if (res.error !== '') throw new UnavailableError(`${res.error}: ${res.message}`);
  return res;
}

/** Runs one seed of the cluster simulator. */
export function runClusterSeed(seed: number, overrides: Partial<Omit<ClusterSimOptions, 'seed'>> = {}): Promise<ClusterSimResult> {
  return new ClusterSim({ ...DEFAULT_CLUSTER_SIM, ...overrides, seed }).run();
}

export function clusterReplayCommand(seed: number, stores = DEFAULT_CLUSTER_SIM.stores): string {
  return `npm run sim -- --cluster --seeds 1 --start ${seed}${stores !== DEFAULT_CLUSTER_SIM.stores ? ` --stores ${stores}` : ''} --verbose`;
}
