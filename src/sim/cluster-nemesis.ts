/**
 * The whole-cluster simulator's nemesis. Every 0.2–1.7 s of the fault phase
 * it strikes once: it cuts a process off (both ways, or one link one way),
 * heals a cut, pauses a process (SIGSTOP) for a while, crashes one (kill -9)
 * for its supervisor to restart, slows a disk down, fails an fsync, or runs
 * an operator command as a user would: a split, a replica move, a leader
 * transfer, a rebalance, a store that joins, a store that dies for good (the
 * placement driver must replace its replicas). It strikes stores and
 * placement-driver members alike, a minority of each group at a time, and
 * now and then one more, to see the group recover.
 */
import type { SeededRng, SimScheduler, Timers } from '../runtime/index.js';
import type { LoopbackNetwork } from '../transport/index.js';
import type { SimProcess, SimProcesses } from './sim-processes.js';

/** What the nemesis did, and how many of its operator commands succeeded. */
export interface NemesisStats {
  cuts: number;
  pauses: number;
  diskFaults: number;
  operators: number;
  operatorsOk: number;
  joins: number;
  retired: number;
}

/** At most this many stores in a run (one joins, one retires). */
const MAX_STORES = 5;
/** How long a retired store counts against the fault budget: until the PD replaced its replicas. */
const RETIRED_IMPAIRS_MS = 15_000;

export class ClusterNemesis {
  private stopped = false;
  /** The one-way cut in force, if any (from, to). */
  private oneWay: [SimProcess, SimProcess] | undefined;
  /** The links cut between one process and the rest of its group (clients still reach it), if any. */
  private peerCut: [string, string][] | undefined;
  private operatorBusy = false;
  private retiredAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly time: SimScheduler,
    private readonly world: Timers,
    private readonly network: LoopbackNetwork,
    private readonly procs: SimProcesses,
    private readonly r: SeededRng,
    private readonly stats: NemesisStats,
    private readonly faultMs: number,
    /** The keys the clients use (where splits go). */
    private readonly keys: readonly string[],
  ) {}

  start(): void {
    const end = this.time.monotonic() + this.faultMs;
    const act = () => {
      if (this.stopped || this.time.monotonic() >= end) return;
      this.strike();
      this.world.setTimeout(act, 200 + this.r.int(1_500));
    };
    this.world.setTimeout(act, 500 + this.r.int(1_000));
  }

  /** No more strikes; the one-way cut, if any, heals (the processes heal in SimProcesses.healAll). */
  stop(): void {
    this.stopped = true;
    if (this.oneWay) this.network.cutLink(this.oneWay[0].address, this.oneWay[1].address, false);
    this.oneWay = undefined;
    this.healPeerCut();
  }

  private strike(): void {
    const r = this.r;
    // One group or the other: stores mostly, PD members now and then.
    const group = r.chance(0.25) ? this.procs.pds : [...this.procs.stores.values()].filter((p) => !p.retired);
    const impaired = group.filter((p) => p.cut || p.paused || !this.procs.running(p)).length + (group === this.procs.pds ? 0 : this.retiredImpairs());
    const healthy = group.filter((p) => !p.cut && !p.paused && this.procs.running(p));
    const budget = Math.floor((group.length - 1) / 2) + (r.chance(0.2) ? 1 : 0);
    const victim = () => (impaired < budget && healthy.length > 0 ? r.pick(healthy) : undefined);
    switch (r.int(13)) {
      case 12: {
        // Cut off from its own group, both ways, while clients still reach it: a leader so cut
        // must stop serving reads on its lease before the others can elect a new one.
        const v = this.peerCut === undefined ? victim() : undefined;
        if (v) {
          this.peerCut = group.filter((s) => s !== v).flatMap((s): [string, string][] => [[v.address, s.address], [s.address, v.address]]);
          for (const [from, to] of this.peerCut) this.network.cutLink(from, to, true);
          this.stats.cuts++;
          this.world.setTimeout(() => this.healPeerCut(), 200 + r.int(3_000));
        }
        break;
      }
      case 0:
      case 1: {
        const v = victim();
        if (v) {
          this.procs.cutOff(v);
          this.stats.cuts++;
        }
        break;
      }
      case 2: {
        const v = victim();
        if (v) {
          this.procs.crash(v);
          this.procs.supervise(v, 300 + r.int(3_000));
        }
        break;
      }
      case 3: {
        const v = victim();
        if (v) {
          this.procs.pause(v);
          this.stats.pauses++;
          this.world.setTimeout(() => this.procs.resume(v), 200 + r.int(4_000));
        }
        break;
      }
      case 4: {
        // One way only: the victim still hears the other process but is not heard by it.
        const v = this.oneWay === undefined ? victim() : undefined;
        const other = v && r.pick(group.filter((s) => s !== v));
        if (v && other) {
          this.oneWay = [v, other];
          this.network.cutLink(v.address, other.address, true);
          this.stats.cuts++;
          this.world.setTimeout(() => {
            this.network.cutLink(v.address, other.address, false);
            if (this.oneWay?.[0] === v) this.oneWay = undefined;
          }, 200 + r.int(3_000));
        }
        break;
      }
      case 5: {
        // A slow disk for a while: every synced batch of the victim takes 20–300 ms.
        const v = r.pick(group);
        v.disk.slowWrites(() => 20 + r.int(280));
        this.stats.diskFaults++;
        this.world.setTimeout(() => v.disk.slowWrites(undefined), 500 + r.int(3_000));
        break;
      }
      case 6: {
        // An fsync error: the victim's next write fails, and the process exits (then restarts).
        const v = victim();
        if (v) {
          v.disk.failNextWrite();
          this.stats.diskFaults++;
        }
        break;
      }
      case 7:
      case 8:
      case 9:
        this.operator(impaired < budget);
        break;
      default: {
        const cut = this.procs.all().filter((p) => p.cut && !p.retired);
        if (cut.length > 0) this.procs.uncut(r.pick(cut));
      }
    }
  }

  private healPeerCut(): void {
    for (const [from, to] of this.peerCut ?? []) this.network.cutLink(from, to, false);
    this.peerCut = undefined;
  }

  private retiredImpairs(): number {
    return this.time.monotonic() - this.retiredAt < RETIRED_IMPAIRS_MS ? 1 : 0;
  }

  /** One operator command at a time, as a user would run it; its failures are answers, not bugs. */
  private operator(mayRetire: boolean): void {
    if (this.operatorBusy) return;
    const r = this.r;
    const stores = [...this.procs.stores.values()].filter((p) => !p.retired);
    let work: () => Promise<unknown>;
    switch (r.int(7)) {
      case 0:
        work = () => this.procs.admin('split', { key: r.pick(this.keys.slice(1)) }, 10_000);
        break;
      case 1:
      case 2:
        work = async () => {
          const { ranges } = await this.procs.pdCall('GetRanges');
          if (ranges.length === 0) return;
          const range = r.pick(ranges).range;
          const on = range.replicas.map((rep) => rep.store);
          const targets = stores.filter((s) => !on.includes(s.id));
          if (targets.length === 0) return;
          return this.procs.admin('move', { range: range.id, from: r.pick(on), to: r.pick(targets).id }, 30_000);
        };
        break;
      case 3:
        work = async () => {
          const { ranges } = await this.procs.pdCall('GetRanges');
          if (ranges.length === 0) return;
          const range = r.pick(ranges).range;
          return this.procs.admin('transfer-leader', { range: range.id, to: r.pick(range.replicas).store }, 10_000);
        };
        break;
      case 4:
        work = () => this.procs.admin('rebalance', {}, 30_000);
        break;
      case 5:
        if (stores.length >= MAX_STORES || this.stats.joins >= 2) return;
        this.stats.joins++;
        work = () => this.procs.addStore();
        break;
      default: {
        // A store dies for good, once per run, while enough others remain to hold three replicas of every range.
        const running = stores.filter((p) => this.procs.running(p) && !p.cut && !p.paused);
        if (!mayRetire || this.stats.retired > 0 || running.length < 4) return;
        const v = r.pick(running);
        this.procs.retire(v);
        this.stats.retired++;
        this.retiredAt = this.time.monotonic();
        return;
      }
    }
    this.operatorBusy = true;
    this.stats.operators++;
    work()
      .then(
        () => this.stats.operatorsOk++,
        () => {},
      )
      .finally(() => (this.operatorBusy = false));
  }
}
