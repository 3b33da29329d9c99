/**
 * The whole-cluster simulator, first stage: real `Store` processes (the same
 * code `raftshard store` runs: event loop, Raft, apply, exactly-once records,
 * snapshots, quiescence, liveness) over in-memory twins of every I/O: the
 * LoopbackNetwork, a MemoryEngine disk per store that survives its crashes,
 * and simulated time (SimScheduler). One seed drives everything, so a run
 * replays bit for bit; its digest says so.
 *
 * A run: clients do get/put/delete/cas on a few keys spread over several
 * ranges, through the range leaders with request ids and retries, as the
 * gateway does; a nemesis cuts stores off (both ways, or one link one way), heals them, crashes
 * stores (losing the process, keeping the disk) and restarts them, and pauses
 * stores (SIGSTOP: timers held while the clock runs on, what is sent to them
 * meanwhile delivered late, on resume) and resumes them, slows a store's disk
 * down for a while, and fails a store's fsync (the process exits, as the
 * store does on a failed write, and is restarted). Then
 * everything heals and every client must finish within a bound; a final read
 * of every key joins the history, which must be linearizable.
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
import type { WireKvRequest, WireKvResponse } from '../transport/index.js';
import type { HistoryOp } from './clients.js';
import { checkHistory } from './history-check.js';
import type { KvCommand, KvResult } from './kv-model.js';
import { CrashableDisk, DiskFault } from './crashable-engine.js';

export interface ClusterSimOptions {
  readonly seed: number;
  readonly stores: number;
  readonly clients: number;
  /** Virtual milliseconds of the fault phase. */
  readonly faultMs: number;
  /** Virtual milliseconds allowed, once healed, for every client to finish. */
  readonly livenessMs: number;
}

export const DEFAULT_CLUSTER_SIM: Omit<ClusterSimOptions, 'seed'> = { stores: 3, clients: 4, faultMs: 20_000, livenessMs: 30_000 };

export interface ClusterSimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly failure?: string;
  /** A hash of the client history and the number of scheduled events: equal for equal seeds. */
  readonly digest: string;
  readonly stats: { ops: number; unknown: number; crashes: number; cuts: number; pauses: number; diskFaults: number; events: number };
}

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];
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
  private readonly leaderGuess = new Map<number, number>();
  private busy = 0;
  /** Invocation and response stamps of the history: unique and in real-time order. */
  private logical = 0;
  private stopClients = false;
  private fatal: string | undefined;
  /** The one-way cut in force, if any (from, to). */
  private oneWay: [SimStore, SimStore] | undefined;
  readonly stats = { ops: 0, unknown: 0, crashes: 0, cuts: 0, pauses: 0, diskFaults: 0, events: 0 };

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
      for (let c = 0; c < this.opts.clients; c++) void this.client(c);
      this.nemesis();
      await this.time.runUntil(this.opts.faultMs, () => this.fatal !== undefined);
      failure = this.fatal ?? (await this.healAndFinish());
      failure ??= this.fatal ?? checkHistory(this.history);
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
      await this.perform(index, input);
      this.busy--;
    }
  }

  /** One operation, retried across stores with one request id until it answers or its deadline passes. */
  private async perform(clientId: number, input: KvCommand): Promise<void> {
    const op: HistoryOp = { clientId, input, output: undefined, call: ++this.logical, ret: Number.POSITIVE_INFINITY };
    this.history.push(op);
    this.stats.ops++;
    const requestId = `c${clientId}-${this.stats.ops}`;
    const range = this.ranges.find((d) => key(input) >= dec.decode(d.start) && (d.end.byteLength === 0 || key(input) < dec.decode(d.end)))!;
    const deadline = this.time.monotonic() + OP_DEADLINE_MS;
    for (let attempt = 0; this.time.monotonic() < deadline; attempt++) {
      const stores = range.replicas.map((rep) => rep.store);
      const store = this.leaderGuess.get(range.id) ?? stores[attempt % stores.length];
      const res = await this.send(this.peers.get(store)!, request(input, range, requestId, attempt > 0));
      if (res && (res.error === '' || res.error === 'CONFLICT')) {
        this.leaderGuess.set(range.id, store);
        op.output = result(input, res);
        op.ret = ++this.logical;
        return;
      }
      if (res?.error === 'BAD_REQUEST') throw new Error(`store ${store} refused ${JSON.stringify(input)}: ${res.message}`);
      if (res?.error === 'NOT_LEADER' && res.leaderStore !== 0 && res.leaderStore !== store) this.leaderGuess.set(range.id, res.leaderStore);
      else {
        this.leaderGuess.delete(range.id);
        await this.sleep(20 + attempt * 10);
      }
    }
    this.stats.unknown++;
  }

  /** The store's answer, or undefined when the attempt failed or timed out. */
  private send(address: string, req: WireKvRequest): Promise<WireKvResponse | undefined> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (res: WireKvResponse | undefined) => {
        if (done) return;
        done = true;
        resolve(res);
      };
      this.world.setTimeout(() => finish(undefined), ATTEMPT_MS);
      this.network.kv(address, req).then(finish, () => finish(undefined));
    });
  }

  private digest(): string {
    const h = createHash('sha256');
    for (const op of this.history) h.update(JSON.stringify([op.clientId, op.input, op.output ?? null, op.call, Number.isFinite(op.ret) ? op.ret : -1]));
    h.update(String(this.time.steps));
    return h.digest('hex').slice(0, 16);
  }
}

const key = (input: KvCommand): string => input.key;

function request(input: KvCommand, range: RangeDescriptor, requestId: string, retry: boolean): WireKvRequest {
  const empty = new Uint8Array(0);
  const base: WireKvRequest = { requestId: '', rangeId: range.id, epoch: range.epoch, op: input.op, key: enc.encode(input.key), value: empty, hasValue: false, expect: empty, hasExpect: false, end: empty, limit: 0, retry };
  switch (input.op) {
    case 'get':
      return base;
    case 'put':
      return { ...base, requestId, value: enc.encode(input.value), hasValue: true };
    case 'delete':
      return { ...base, requestId };
    case 'cas':
      return { ...base, requestId, value: input.value === null ? empty : enc.encode(input.value), hasValue: input.value !== null, expect: input.expect === null ? empty : enc.encode(input.expect), hasExpect: input.expect !== null };
  }
}

function result(input: KvCommand, res: WireKvResponse): KvResult {
  const current = res.found ? dec.decode(res.value) : null;
  switch (input.op) {
    case 'get':
      return { value: current };
    case 'put':
    case 'delete':
      return { ok: true };
    case 'cas':
      return { ok: res.error === '', current };
  }
}

/** Runs one seed of the cluster simulator. */
export function runClusterSeed(seed: number, overrides: Partial<Omit<ClusterSimOptions, 'seed'>> = {}): Promise<ClusterSimResult> {
  return new ClusterSim({ ...DEFAULT_CLUSTER_SIM, ...overrides, seed }).run();
}

export function clusterReplayCommand(seed: number, stores = DEFAULT_CLUSTER_SIM.stores): string {
  return `npm run sim -- --cluster --seeds 1 --start ${seed}${stores !== DEFAULT_CLUSTER_SIM.stores ? ` --stores ${stores}` : ''} --verbose`;
}
