/**
 * The whole-cluster simulator: the real processes of a cluster in one
 * process, over in-memory twins of every I/O (the LoopbackNetwork for Raft
 * frames, KV requests, placement-driver calls and snapshots; a CrashableDisk
 * per process that survives its crashes; simulated time), all driven by one
 * seed, so a run replays bit for bit (its digest says so).
 *
 * The processes are those `raftshard local` runs, wired as src/cli wires
 * them: three placement-driver members (sim-processes.ts), stores that
 * register and heartbeat, and the gateway's router with its PD client. The
 * PD bootstraps the first range; the setup splits it; then clients do
 * get/put/delete/cas through the router while the nemesis (cluster-nemesis.ts)
 * cuts, pauses, crashes and slows processes, fails their fsyncs, and runs the
 * operators: splits, moves, leader transfers, rebalance, a store that joins
 * and a store that dies for good and is replaced. The PD splits ranges that
 * grow on its own. Then everything heals, and the checks run:
 *   - every client finishes within a bound (liveness);
 *   - a final read of every key joins the history, which must be
 *     linearizable: every acknowledged write is readable, and a write
 *     answered UNAVAILABLE ("nothing was applied") must never show;
 *   - the range table is contiguous and every range has its voters, each
 *     hosting the range at the PD's epoch.
 *
 * The clients are the gateway's: its transaction client over the router, as
 * the gateway runs `/kv` (writes at fresh timestamps from the PD's TSO, gets
 * of the newest state, and snapshot gets at a transaction's start, held to
 * real time). Two transactional workloads (cluster-txn-workloads.ts) replace
 * them on demand: `bank` (every snapshot sums to the total, with abandoned
 * coordinators) and `append` (list-append, Elle's checker).
 */
import { createHash } from 'node:crypto';
import { OutcomeUnknownError, UnavailableError } from '../common/index.js';
import { DbError } from '../common/index.js';
import { KvRouter } from '../gateway/index.js';
import { SeededRng, SimScheduler } from '../runtime/index.js';
import type { Timers } from '../runtime/index.js';
import { LoopbackNetwork, PdClient } from '../transport/index.js';
import type { WireKvResponse } from '../transport/index.js';
import { TxnClient } from '../txn/index.js';
import type { KvRequest } from '../txn/index.js';
import type { HistoryOp } from './clients.js';
import { ClusterNemesis } from './cluster-nemesis.js';
import type { NemesisStats } from './cluster-nemesis.js';
import { checkRangeTable } from './cluster-checks.js';
import { checkHistory } from './history-check.js';
import type { KvCommand, KvResult } from './kv-model.js';
import { SimProcesses } from './sim-processes.js';
import type { LifeStats } from './sim-processes.js';
import { BankWorkload, ListAppendWorkload } from './cluster-txn-workloads.js';
import type { TxnWorkload } from './cluster-txn-workloads.js';

export interface ClusterSimOptions {
  readonly seed: number;
  /** Stores at the start; the nemesis may add one and retire one. */
  readonly stores: number;
  readonly clients: number;
  /** Virtual milliseconds of the fault phase. */
  readonly faultMs: number;
  /** Virtual milliseconds allowed, once healed, for every client to finish and the range table to settle. */
  readonly livenessMs: number;
  /** Log the processes' lines at this level, stamped with simulated time (undefined: silent). */
  readonly log?: string;
  readonly workload: ClusterWorkload;
  /** Each process's clock runs at a rate within 1 ± clockSkew of simulated time (default 0.05: lease reads must hold). */
  readonly clockSkew?: number;
}

/** `kv`: single-key `/kv` operations, linearizable; `bank`: transfers, every snapshot sums to the total; `append`: list-append transactions, Elle's checker. */
export type ClusterWorkload = 'kv' | 'bank' | 'append';

export const DEFAULT_CLUSTER_SIM: Omit<ClusterSimOptions, 'seed'> = { stores: 3, clients: 4, faultMs: 20_000, livenessMs: 30_000, workload: 'kv' };

export interface ClusterSimStats extends NemesisStats, LifeStats {
  ops: number;
  /** Writes whose outcome the router could not learn (504). */
  unknown: number;
  /** Operations answered "nothing was applied" (503). */
  unavailable: number;
  /** Transactions (and `/kv` appends) committed. */
  committed: number;
  /** Transactions that lost a write conflict (and `/kv` appends that gave up). */
  conflicts: number;
  /** Bank transfers whose coordinator walked away mid-commit. */
  abandoned: number;
  /** Ranges at the end. */
  ranges: number;
  events: number;
}

export interface ClusterSimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly failure?: string;
  /** A hash of the client history and the number of scheduled events: equal for equal seeds. */
  readonly digest: string;
  readonly stats: ClusterSimStats;
}

export const SIM_KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'];
const INITIAL_SPLITS = ['e', 'i'];
/** How long the PD may take to bootstrap the cluster and the setup to split it. */
const SETUP_MS = 30_000;
/** The gateway's deadline per request: shorter than its default (10 s), so that outages outlast it and 503 / 504 answers are exercised. */
const ROUTER_DEADLINE_MS = 3_000;
/** In deposedLeaderRead: longer than any message's time on the wire, so the read is there when the leader wakes. */
const READ_WAITS_FOR_RESUME_MS = 50;
/** Two gateways, each with its own range cache: one may still route to a deposed leader the other has left. */
const GATEWAYS = ['10.0.2.1:8080', '10.0.2.3:8080'];
const enc = new TextEncoder();
const dec = new TextDecoder();

export class ClusterSim {
  readonly time = new SimScheduler();
  private readonly rng: SeededRng;
  private readonly network: LoopbackNetwork;
  private readonly world: Timers;
  private readonly procs: SimProcesses;
  private readonly routers: KvRouter[];
  /** The first gateway's router (setup, scenarios). */
  private readonly router: KvRouter;
  /** Each gateway's transaction client: `/kv` and transactions go through them, as through the gateways. */
  private readonly txnClients: TxnClient[];
  /** The first gateway's (setup, scenarios, the transactional workloads). */
  private readonly txns: TxnClient;
  /** The transactional workload replacing the `/kv` clients, if any. */
  readonly workload: TxnWorkload | undefined;
  readonly history: HistoryOp[] = [];
  private busy = 0;
  /** Invocation and response stamps of the history: unique and in real-time order. */
  private logical = 0;
  private stopClients = false;
  readonly stats: ClusterSimStats = { ops: 0, unknown: 0, unavailable: 0, committed: 0, conflicts: 0, abandoned: 0, crashes: 0, cuts: 0, pauses: 0, diskFaults: 0, operators: 0, operatorsOk: 0, joins: 0, retired: 0, ranges: 0, events: 0 };

  constructor(readonly opts: ClusterSimOptions) {
    const root = new SeededRng(opts.seed);
    this.rng = root.fork();
    const nemesisRng = root.fork();
    this.world = this.time.scope();
    const wire = root.fork();
    // Mostly a few milliseconds on the wire, now and then a long stall.
    // Now and then a Raft frame comes twice or out of order.
    const mishandle = (): 'duplicate' | 'reorder' | undefined => (wire.chance(0.002) ? 'duplicate' : wire.chance(0.002) ? 'reorder' : undefined);
    this.network = new LoopbackNetwork(this.world, () => (wire.chance(0.005) ? 100 + wire.int(500) : 1 + wire.int(8)), mishandle);
    this.procs = new SimProcesses(this.time, this.network, root.fork(), this.stats, opts.log, opts.clockSkew ?? 0.05);
    const gatewayTimers = this.time.scope();
    this.routers = GATEWAYS.map((address) => {
      const dialer = this.network.dialerFrom(address);
      return new KvRouter(new PdClient(this.procs.pdAddresses, this.time, gatewayTimers, dialer), this.time, gatewayTimers, dialer, ROUTER_DEADLINE_MS);
    });
    this.router = this.routers[0];
    // As each gateway builds it (gateway/app.ts): the router sends, the PD's TSO stamps.
    this.txnClients = this.routers.map((router) => new TxnClient(router, (count) => router.pd.tso(count), this.time, gatewayTimers));
    this.txns = this.txnClients[0];
    const ctx = { txns: this.txns, keys: SIM_KEYS, stamp: () => ++this.logical, fail: (why: string) => (this.procs.fatal ??= why), stats: this.stats };
    this.workload = opts.workload === 'bank' ? new BankWorkload(ctx) : opts.workload === 'append' ? new ListAppendWorkload(ctx) : undefined;
    this.nemesis = new ClusterNemesis(this.time, this.world, this.network, this.procs, nemesisRng, this.stats, opts.faultMs, SIM_KEYS);
  }

  private readonly nemesis: ClusterNemesis;

  async run(): Promise<ClusterSimResult> {
    let failure: string | undefined;
    try {
      await this.procs.startCluster(this.opts.stores);
      failure = await this.setup();
      if (!failure) {
        for (let c = 0; c < this.opts.clients; c++) void this.client(c);
        this.nemesis.start();
        await this.time.runUntil(this.time.monotonic() + this.opts.faultMs, () => this.procs.fatal !== undefined);
        failure = this.procs.fatal ?? (await this.healAndFinish());
        failure ??= this.procs.fatal ?? (this.workload ? this.workload.check() : checkHistory(this.history));
      }
    } catch (err) {
      failure = `t=${this.time.monotonic()} ms: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
    } finally {
      for (const r of this.routers) r.close();
      this.procs.killAll();
    }
    this.stats.events = this.time.steps;
    return { seed: this.opts.seed, ok: failure === undefined, failure, digest: this.digest(), stats: this.stats };
  }

  /**
   * ISSUE 8 §3 in the simulator: after the setup, with no other fault, the
   * leader of the range holding `key` is cut off (its process keeps running),
   * and a write is sent through the router at once. Resolves with the
   * milliseconds until that write succeeded: the router must notice, and the
   * range elect a new leader, within a few seconds, not a whole attempt deadline.
   */
  async leaderCutOff(key = 'a'): Promise<number> {
    try {
      await this.procs.startCluster(this.opts.stores);
      const failed = await this.setup();
      if (failed) throw new Error(failed);
      // Settle: leaders elected (and their read floors synced), the router's cache warm.
      await this.within(2_000, this.txns.write({ op: 'put', key: enc.encode(key), value: enc.encode('warm'), hasValue: true }));
      const rangeId = this.router.locate(enc.encode(key))!.id;
      const leader = [...this.procs.stores.values()].find((p) => p.store?.replicas.get(rangeId)?.isLeader());
      if (!leader) throw new Error(`range ${rangeId} has no leader`);
      this.procs.cutOff(leader);
      const cutAt = this.time.monotonic();
      const put = this.txns.write({ op: 'put', key: enc.encode(key), value: enc.encode('after'), hasValue: true });
      const done = await this.within(ROUTER_DEADLINE_MS * 3, put);
      if (!done || done.value.error !== '') throw new Error(`the write after the cut failed: ${done ? done.value.error : 'no answer'}`);
      return this.time.monotonic() - cutAt;
    } finally {
      for (const r of this.routers) r.close();
      this.procs.killAll();
    }
  }

  /**
   * Lease reads against a deposed leader. The leader of the range holding
   * `key` is cut off from the other stores (clients still reach it), and
   * with `pause` also stopped (SIGSTOP) for a while. Through one gateway a
   * write of "new" then succeeds on the leader the others elect; then the
   * other gateway, whose cache still names the old leader, reads the key
   * there (resuming it first, if paused). With `quiesce`, the range first
   * goes idle until its leader stops ticking, and the writing gateway cannot
   * reach the old leader either (it learns nothing of the write). Resolves with what that read
   * returned: "new" unless the old leader served a read on a lease that had
   * lapsed (a stale "old").
   */
  async deposedLeaderRead(pause: boolean, quiesce = false, key = 'a'): Promise<string | null> {
    const put = (router: KvRouter, value: string, id: string, retry = false) => router.send({ op: 'put', key: enc.encode(key), value: enc.encode(value), hasValue: true, requestId: id, retry });
    try {
      await this.procs.startCluster(this.opts.stores);
      const failed = await this.setup();
      if (failed) throw new Error(failed);
      const [writer, reader] = this.routers;
      await this.within(2_000, put(writer, 'old', 'old'));
      await this.within(2_000, reader.send({ op: 'get', key: enc.encode(key) }));
      const rangeId = writer.locate(enc.encode(key))!.id;
      const old = [...this.procs.stores.values()].find((p) => p.store?.replicas.get(rangeId)?.isLeader());
      if (!old) throw new Error(`range ${rangeId} has no leader`);
      if (quiesce && !(await this.within(5_000, this.quiesced(old.store!.replicas.get(rangeId)!, 5_000)))?.value) throw new Error(`range ${rangeId} did not quiesce`);
      const others = [...this.procs.stores.values()].filter((p) => p !== old);
      for (const p of others) {
        this.network.cutLink(old.address, p.address, true);
        this.network.cutLink(p.address, old.address, true);
      }
      // An idle leader woken by the write would drop its lease; it must not need that to stay safe.
      if (quiesce) this.network.cutLink(GATEWAYS[0], old.address, true);
      if (pause) this.procs.pause(old);
      // Sent again (the same request id: applied once) while the others of an idle range notice the silence and elect.
      let written: { value: WireKvResponse } | undefined;
      let lastError: unknown;
      for (let attempt = 0; attempt < 5 && written === undefined; attempt++) {
        written = await this.within(ROUTER_DEADLINE_MS * 3, put(writer, 'new', 'new', attempt > 0)).catch((err: unknown) => ((lastError = err), undefined));
      }
      if (!written || written.value.error !== '') throw new Error(`the write on the new leader failed: ${written ? written.value.error : String(lastError)}`);
      const read = reader.send({ op: 'get', key: enc.encode(key) });
      if (pause) {
        // The read reaches the stopped process and waits there, as in a socket buffer, for it to wake.
        await this.time.runUntil(this.time.monotonic() + READ_WAITS_FOR_RESUME_MS);
        this.procs.resume(old);
      }
      const res = await this.within(ROUTER_DEADLINE_MS * 3, read);
      if (!res || res.value.error !== '') throw new Error(`the read failed: ${res ? res.value.error : 'no answer'}`);
      return res.value.found ? dec.decode(res.value.value) : null;
    } finally {
      for (const r of this.routers) r.close();
      this.procs.killAll();
    }
  }

  /** Whether `replica` stops ticking within `ms` (checked every simulated 10 ms). */
  private quiesced(replica: { readonly quiesced: boolean }, ms: number): Promise<boolean> {
    const until = this.time.monotonic() + ms;
    return new Promise((resolve) => {
      const check = () => {
        if (replica.quiesced || this.time.monotonic() >= until) resolve(replica.quiesced);
        else this.world.setTimeout(check, 10);
      };
      check();
    });
  }

  /** Runs `work` in simulated time until it settles or `ms` pass; its value, or undefined when it did not settle. */
  private async within<T>(ms: number, work: Promise<T>): Promise<{ value: T } | undefined> {
    let out: { value: T } | undefined;
    let failed: unknown;
    let settled = false;
    work.then(
      (value) => ((out = { value }), (settled = true)),
      (err: unknown) => ((failed = err), (settled = true)),
    );
    await this.time.runUntil(this.time.monotonic() + ms, () => settled || this.procs.fatal !== undefined);
    if (failed !== undefined) throw failed;
    return out;
  }

  /** The PD bootstraps the first range over the first stores; the setup splits it as an operator would. */
  private async setup(): Promise<string | undefined> {
    const splits = (async () => {
      for (const key of INITIAL_SPLITS) {
        for (;;) {
          try {
            await this.procs.admin('split', { key }, 5_000);
            break;
          } catch (err) {
            // The cluster is still bootstrapping, or the PD is still electing: try again.
            if (!(err instanceof UnavailableError || err instanceof OutcomeUnknownError || isRetryableSetupError(err))) throw err;
            await new Promise<void>((r) => this.world.setTimeout(r, 500));
          }
        }
      }
      await Promise.all(this.routers.map((r) => r.refresh()));
      await this.workload?.setup();
    })();
    const done = await this.within(SETUP_MS, splits);
    if (this.procs.fatal) return this.procs.fatal;
    return done ? undefined : `setup: the cluster was not bootstrapped, split${this.workload ? ' and set up for its workload' : ''} within ${SETUP_MS} ms`;
  }

  /** Heals every fault, waits for the clients, reads every key once more, and checks the range table. */
  private async healAndFinish(): Promise<string | undefined> {
    this.nemesis.stop();
    await this.procs.healAll();
    this.stopClients = true;
    const deadline = this.time.monotonic() + this.opts.livenessMs;
    await this.time.runUntil(deadline, () => this.busy === 0 || this.procs.fatal !== undefined);
    if (this.procs.fatal) return this.procs.fatal;
    if (this.busy > 0) return `liveness: ${this.busy} clients still busy ${this.opts.livenessMs} ms after healing`;
    if (this.workload) {
      const last = await this.within(this.opts.livenessMs, this.workload.final());
      if (!last) return `liveness: the workload's final read did not finish within ${this.opts.livenessMs} ms`;
      if (last.value) return last.value;
    } else {
      const failed = await this.finalReads();
      if (failed) return failed;
    }
    const table = await this.within(this.opts.livenessMs, checkRangeTable(this.procs, this.time, this.world, this.opts.livenessMs));
    if (!table) return `liveness: the range table check did not finish within ${this.opts.livenessMs} ms`;
    this.stats.ranges = table.value.ranges;
    return table.value.problem;
  }

  /** A read of every key joins the history. */
  private async finalReads(): Promise<string | undefined> {
    const finals = this.within(
      this.opts.livenessMs,
      Promise.all(SIM_KEYS.map((key) => this.perform(-1, { op: 'get', key }))),
    );
    if (!(await finals)) return `liveness: the final reads did not finish within ${this.opts.livenessMs} ms`;
    const lost = SIM_KEYS.filter((key) => !this.history.some((h) => h.clientId === -1 && h.input.key === key && h.output !== undefined));
    return lost.length > 0 ? `liveness: a final read gave no answer (${lost.join(', ')})` : undefined;
  }

  // ---- clients --------------------------------------------------------------------------

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => this.world.setTimeout(r, ms));
  }

  private async client(index: number): Promise<void> {
    const r = this.rng.fork();
    while (!this.stopClients && this.procs.fatal === undefined) {
      await this.sleep(r.int(100));
      if (this.stopClients) break;
      this.busy++;
      if (this.workload) {
        this.stats.ops++;
        await this.workload.step(index, r);
      } else {
        const key = r.pick(SIM_KEYS);
        const value = `${index}.${this.stats.ops}`;
        const n = r.int(10);
        const input: KvCommand = n < 4 ? { op: 'get', key } : n < 7 ? { op: 'put', key, value } : n < 8 ? { op: 'delete', key } : { op: 'cas', key, expect: r.chance(0.5) ? null : `${r.int(4)}.${r.int(40)}`, value: r.chance(0.2) ? null : value };
        await this.perform(index, input, n < 2);
      }
      this.busy--;
    }
  }

  /**
   * One operation through the gateway's transaction client, as an HTTP
   * request to `/kv` runs it: a write at a fresh TSO timestamp, a get of the
   * newest state, or (`snapshot`) a get inside a transaction at its start
   * timestamp, linearized when that timestamp was issued (so the checker also
   * holds snapshots to real time). An answer joins the history; a write whose
   * outcome is unknown (504) stays in it, open; one answered "nothing was
   * applied" (503) leaves it, so that if it did apply after all, the history
   * cannot be explained.
   */
  private async perform(clientId: number, input: KvCommand, snapshot = false): Promise<void> {
    const op: HistoryOp = { clientId, input, output: undefined, call: ++this.logical, ret: Number.POSITIVE_INFINITY };
    this.history.push(op);
    this.stats.ops++;
    try {
      // Clients are spread over the gateways (the final reads, client -1, go through the last one).
      const txns = this.txnClients[(clientId + this.txnClients.length) % this.txnClients.length];
      const output = await this.runKv(txns, input, snapshot);
      if (output) {
        op.output = output;
        op.ret = ++this.logical;
        return;
      }
      // Any other answer is a 503 at the gateway: nothing was applied.
      this.withdraw(op);
    } catch (err) {
      const code = err instanceof DbError ? err.code : undefined;
      if (code === 'OUTCOME_UNKNOWN') this.stats.unknown++;
      else if (code !== undefined && code !== 'BAD_REQUEST') this.withdraw(op);
      else this.procs.fatal ??= `client ${clientId}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  /** The operation's result, or undefined for an error answer (a 503). */
  private async runKv(txns: TxnClient, input: KvCommand, snapshot: boolean): Promise<KvResult | undefined> {
    if (input.op === 'get' && snapshot) {
      const value = await (await txns.begin()).get(enc.encode(input.key));
      return { value: value === undefined ? null : dec.decode(value) };
    }
    const req = request(input);
    const res = input.op === 'get' ? await txns.read(req) : await txns.write(req);
    if (res.error === 'BAD_REQUEST') throw new Error(`the gateway's request for ${JSON.stringify(input)} was refused: ${res.message}`);
    if (res.error === '' || (input.op === 'cas' && res.error === 'CONFLICT')) return result(input, res);
    return undefined;
  }

  /** An operation that certainly did not happen: it leaves the history. */
  private withdraw(op: HistoryOp): void {
    this.stats.unavailable++;
    this.history.splice(this.history.indexOf(op), 1);
  }

  private digest(): string {
    const h = createHash('sha256');
    for (const op of this.history) h.update(JSON.stringify([op.clientId, op.input, op.output ?? null, op.call, Number.isFinite(op.ret) ? op.ret : -1]));
    this.workload?.digest(h);
    h.update(String(this.time.steps));
    return h.digest('hex').slice(0, 16);
  }
}

/** Errors the PD answers while it bootstraps (no range holds the key yet). */
function isRetryableSetupError(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err.code === 'NOT_FOUND' || err.code === 'UNAVAILABLE');
}

/** The request as the gateway's `/kv` routes hand it to the transaction client (which names it and stamps it). */
function request(input: KvCommand): KvRequest {
  const key = enc.encode(input.key);
  switch (input.op) {
    case 'get':
      return { op: 'get', key };
    case 'put':
      return { op: 'put', key, value: enc.encode(input.value), hasValue: true };
    case 'delete':
      return { op: 'delete', key };
    case 'cas':
      return {
        op: 'cas',
        key,
        hasExpect: input.expect !== null,
        expect: input.expect === null ? undefined : enc.encode(input.expect),
        hasValue: input.value !== null,
        value: input.value === null ? undefined : enc.encode(input.value),
      };
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

export function clusterReplayCommand(seed: number, stores = DEFAULT_CLUSTER_SIM.stores, workload: ClusterWorkload = 'kv'): string {
  return `npm run sim -- --cluster${workload === 'kv' ? '' : ` --${workload}`} --seeds 1 --start ${seed}${stores !== DEFAULT_CLUSTER_SIM.stores ? ` --stores ${stores}` : ''} --verbose`;
}
