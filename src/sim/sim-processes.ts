/**
 * The processes of a simulated cluster and their lives: three placement
 * driver members and the stores, each wired as src/cli wires the real one
 * (`raftshard pd`: a Store hosting the PD group with the PD service on its
 * port; `raftshard store`: a Store that registers, heartbeats and takes its
 * new leaders' read floors from the PD's TSO), over the
 * simulator's network, a CrashableDisk each and simulated time. A process
 * can be crashed (kill -9: its timers and its calls in flight die with it,
 * its disk stays as the last write left it) and restarted by its
 * supervisor, cut off, paused (SIGSTOP), and a store can retire for good.
 */
import { DbError } from '../common/index.js';
import { DEFAULT_PD_CONFIG, deferredPdHandlers, PD_RANGE_ID, PlacementDriver, StorePdGroup } from '../pd/index.js';
import type { PdConfig } from '../pd/index.js';
import { rangesFromSplits } from '../replica/index.js';
import { SeededRng, silentLogger, simulatedLogger } from '../runtime/index.js';
import type { Clock, Logger, SimScheduler, Timers } from '../runtime/index.js';
import { Store, StoreHeartbeat, storePdRangeHost } from '../store/index.js';
import { PdClient } from '../transport/index.js';
import type { Dialer, LoopbackNetwork, PdHandlers, TsoStream } from '../transport/index.js';
import { CrashableDisk, DiskFault } from './crashable-engine.js';

export type ProcessTimers = Timers & { kill(): void; pause(): void; resume(): void };

export interface SimProcess {
  readonly kind: 'pd' | 'store';
  readonly id: number;
  readonly address: string;
  readonly disk: CrashableDisk;
  /** Its monotonic clock, which may run a little fast or slow (see clockSkew). */
  readonly clock: Clock;
  /** The running incarnation's timers; undefined while the process is down. */
  timers: ProcessTimers | undefined;
  store: Store | undefined;
  /** Closes what the incarnation runs beside its store (the PD, the heartbeat). */
  stopExtras: (() => void) | undefined;
  cut: boolean;
  paused: boolean;
  /** Gone for good: never restarted. */
  retired: boolean;
}

const PD_TICK_MS = 100;
const STORE_TICK_MS = 50;
const ELECTION_TICK = 10;
/** Exactly-once records rotate often enough to be exercised, and no faster than a request is retried (the router's 10 s deadline). */
const DEDUP_ROTATE_MS = 15_000;
const TOOL_ADDRESS = '10.0.2.2:9000';

export interface LifeStats {
  crashes: number;
}

export class SimProcesses {
  readonly pds: SimProcess[] = [];
  readonly stores = new Map<number, SimProcess>();
  readonly pdAddresses = [1, 2, 3].map((id) => `10.0.1.${id}:2379`);
  /** The first failure that is a bug (not a fault the nemesis injected). */
  fatal: string | undefined;
  private readonly pdConfig: PdConfig;
  private readonly tool: PdClient;
  /** What happens to the processes (the nemesis's doing), in the same log as theirs. */
  private readonly log: Logger;

  constructor(
    private readonly time: SimScheduler,
    private readonly network: LoopbackNetwork,
    private readonly rng: SeededRng,
    private readonly stats: LifeStats,
    /** Log every process's lines at this level (undefined: silent). */
    private readonly logLevel?: string,
    /** Each process's clock runs at a rate drawn from 1 ± clockSkew (its timers do not: they fire on simulated time). */
    private readonly clockSkew = 0,
  ) {
    const members = new Map(this.pdAddresses.map((a, i) => [i + 1, a]));
    // Small limits so that the PD's own work happens within a run: auto-split (a range of three keys is over 40 bytes), replacing a dead store.
    this.pdConfig = { ...DEFAULT_PD_CONFIG, members, downAfterMs: 3_000, replaceAfterMs: 8_000, splitBytes: 40, scheduleMs: 500 };
    this.log = logLevel ? simulatedLogger('nemesis', logLevel, time) : silentLogger;
    this.tool = new PdClient(this.pdAddresses, time, time.scope(), network.dialerFrom(TOOL_ADDRESS));
    for (const [id, address] of members) this.pds.push(this.newProcess('pd', id, address));
  }

  private newProcess(kind: 'pd' | 'store', id: number, address: string): SimProcess {
    const rate = 1 + (this.rng.float() * 2 - 1) * this.clockSkew;
    const clock: Clock = { monotonic: () => this.time.monotonic() * rate, now: () => this.time.now() };
    return { kind, id, address, clock, disk: new CrashableDisk(this.time.scope(), this.rng.fork()), timers: undefined, store: undefined, stopExtras: undefined, cut: false, paused: false, retired: false };
  }

  /** Starts the PD members and `stores` stores (the PD bootstraps the first range once three registered). */
  async startCluster(stores: number): Promise<void> {
    for (const p of this.pds) await this.start(p);
    for (let i = 0; i < stores; i++) await this.addStore();
  }

  /** A new store joins the cluster (the next id, a new address). */
  async addStore(): Promise<SimProcess> {
    const id = Math.max(0, ...this.stores.keys()) + 1;
    const p = this.newProcess('store', id, `10.0.0.${id}:7000`);
    this.stores.set(id, p);
    await this.start(p);
    return p;
  }

  /** An operator command through the PD, as `raftshard split|move|...` sends it. */
  admin(op: string, body: unknown, deadlineMs: number): Promise<unknown> {
    return this.tool.admin(op, body, deadlineMs);
  }

  pdCall<M extends 'GetRanges' | 'GetStores'>(method: M): ReturnType<PdHandlers[M]> {
    return this.tool.call(method, {}, 3_000) as ReturnType<PdHandlers[M]>;
  }

  all(): SimProcess[] {
    return [...this.pds, ...this.stores.values()];
  }

  running(p: SimProcess): boolean {
    return p.timers !== undefined;
  }

  async start(p: SimProcess): Promise<void> {
    this.log.info({ process: p.address }, `start ${p.kind} ${p.id}`);
    const timers = this.time.scope();
    p.timers = timers;
    const alive = () => p.timers === timers;
    const dialer = gated(this.network.dialerFrom(p.address), alive);
    const deps = {
      engine: p.disk.open(),
      network: this.network.viewFrom(p.address),
      clock: p.clock,
      timers,
      rng: new SeededRng(this.rng.nextU32()),
      logger: this.logLevel ? simulatedLogger(`${p.kind}-${p.id}`, this.logLevel, this.time) : silentLogger,
      // A failed fsync ends the process (it cannot know what is durable); its supervisor restarts it.
      fatal: (err: unknown) => {
        if (!alive()) return;
        if (!(err instanceof DiskFault)) this.fatal ??= `${p.kind} ${p.id}: the event loop failed: ${err instanceof Error ? err.message : String(err)}`;
        else {
          this.crash(p);
          this.supervise(p, 300 + this.rng.int(2_000));
        }
      },
    };
    if (p.kind === 'pd') {
      const members = this.pdConfig.members;
      let pd: PlacementDriver | undefined;
      const store = await Store.open({ id: p.id, dir: `sim-pd-${p.id}`, listen: p.address, peers: new Map(members), tickMs: PD_TICK_MS, electionTick: ELECTION_TICK }, deps, deferredPdHandlers(() => pd));
      await store.claimDataDir();
      // Every member creates the same group; on later starts this is a no-op.
      await store.createReplica(rangesFromSplits([], [...members.keys()], PD_RANGE_ID)[0], true);
      pd = new PlacementDriver(this.pdConfig, new StorePdGroup(storePdRangeHost(store), p.id), { clock: p.clock, timers, logger: deps.logger, dialer });
      p.store = store;
      p.stopExtras = () => pd.close();
      return;
    }
    const peers = new Map([...this.stores.values()].filter((s) => s !== p).map((s) => [s.id, s.address]));
    // One PD client for the heartbeats and the TSO a new range leader syncs its read floor with, as src/cli wires it.
    const pd = new PdClient(this.pdAddresses, p.clock, timers, dialer);
    const store = await Store.open({ id: p.id, dir: `sim-store-${p.id}`, listen: p.address, peers, tickMs: STORE_TICK_MS, electionTick: ELECTION_TICK, dedupRotateMs: DEDUP_ROTATE_MS }, { ...deps, tso: () => pd.tso() });
    const heartbeat = new StoreHeartbeat(store, pd, p.address, timers, silentLogger);
    p.store = store;
    p.stopExtras = () => heartbeat.close();
    heartbeat.start().catch((err: unknown) => {
      if (!alive()) return;
      // Refused: the store lost data the PD knows it had, which the simulated disk never does.
      if (err instanceof DbError && err.code === 'STORE_REFUSED') this.fatal ??= `store ${p.id} was refused by the placement driver: ${err.message}`;
      else {
        // The PD was out of reach for the whole registration window: the process exits, and is restarted.
        this.crash(p);
        this.supervise(p, 1_000);
      }
    });
  }

  /** kill -9: the process and its timers go, its disk stays as the last write left it. */
  crash(p: SimProcess): void {
    if (!p.timers) return;
    this.log.info({ process: p.address }, `crash ${p.kind} ${p.id}`);
    p.timers.kill();
    p.disk.crash();
    this.network.crash(p.address);
    // A dead process is not paused any more; its next incarnation starts running.
    if (p.paused) {
      p.paused = false;
      this.network.hold(p.address, false);
    }
    p.store = undefined;
    p.stopExtras = undefined;
    p.timers = undefined;
    this.stats.crashes++;
  }

  /** The supervisor restarts a crashed process after `ms` (unless it runs again, or retired). */
  supervise(p: SimProcess, ms: number): void {
    this.time.scope().setTimeout(() => {
      if (p.timers !== undefined || p.retired) return;
      this.start(p).catch((err: unknown) => (this.fatal ??= `${p.kind} ${p.id} failed to restart: ${err instanceof Error ? err.message : String(err)}`));
    }, ms);
  }

  /** The store dies for good: the PD must rebuild its replicas elsewhere. */
  retire(p: SimProcess): void {
    this.crash(p);
    this.uncut(p);
    p.retired = true;
    this.log.info({ process: p.address }, `retire ${p.kind} ${p.id}`);
  }

  cutOff(p: SimProcess): void {
    this.log.info({ process: p.address }, `cut ${p.kind} ${p.id} off`);
    p.cut = true;
    this.network.cut(p.address, true);
  }

  uncut(p: SimProcess): void {
    if (p.cut) this.log.info({ process: p.address }, `heal ${p.kind} ${p.id}`);
    p.cut = false;
    this.network.cut(p.address, false);
  }

  /** SIGSTOP: its timers stop while the clock runs on; what is sent to it waits in the network, as in socket buffers. */
  pause(p: SimProcess): void {
    this.log.info({ process: p.address }, `pause ${p.kind} ${p.id}`);
    p.paused = true;
    p.timers!.pause();
    this.network.hold(p.address, true);
  }

  /** SIGCONT: it wakes to a late clock and to everything sent to it meanwhile. */
  resume(p: SimProcess): void {
    if (!p.paused) return;
    this.log.info({ process: p.address }, `resume ${p.kind} ${p.id}`);
    p.paused = false;
    p.timers?.resume();
    this.network.hold(p.address, false);
  }

  /** Every process that is not retired runs again, reachable, with a healthy disk. */
  async healAll(): Promise<void> {
    for (const p of this.all()) {
      if (p.retired) continue;
      if (p.cut) this.uncut(p);
      this.resume(p);
      p.disk.heal();
      if (p.timers === undefined) await this.start(p);
    }
  }

  killAll(): void {
    for (const p of this.all()) {
      p.stopExtras?.();
      p.timers?.kill();
    }
  }
}

/**
 * The calls of one incarnation of a process: once it died, the answers to
 * what it had in flight never reach it, as they would not reach a killed
 * process (otherwise a dead PD leader's operator would carry on, a zombie).
 */
function gated(dialer: Dialer, alive: () => boolean): Dialer {
  const gate = <T>(p: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) =>
      p.then(
        (v) => alive() && resolve(v),
        (e: unknown) => alive() && reject(e),
      ),
    );
  const gateStream = (s: TsoStream): TsoStream => ({
    write: (count) => s.write(count),
    onAnswer: (fn) => s.onAnswer((res) => alive() && fn(res)),
    onClose: (fn) => s.onClose((why) => alive() && fn(why)),
    close: () => s.close(),
  });
  const wrap = <O extends object>(o: O): O =>
    new Proxy(o, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function' || prop === 'close') return v;
        if (prop === 'openTsoStream') return () => gateStream((v as () => TsoStream).apply(target));
        return (...args: unknown[]) => gate((v as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      },
    });
  return { store: (a) => wrap(dialer.store(a)), pdMember: (a) => wrap(dialer.pdMember(a)), kvStream: (a) => wrap(dialer.kvStream(a)) };
}
