/**
 * The PD leader's view of the cluster: the authoritative range map and store
 * registry (persisted through the PD group), plus what heartbeats report and
 * is only kept in memory (leaders, sizes, liveness, pids).
 */
import { isNewer } from '../transport/index.js';
import type { RangeDescriptor } from '../common/index.js';

export interface StoreState {
  readonly id: number;
  address: string;
  pid: number;
  /** Monotonic ms of the last heartbeat (0 = none since this PD leader took over). */
  lastHeartbeat: number;
  /** Set by `decommission` (persisted): its replicas are moving away, or all gone for good. */
  retire?: StoreRetirement;
}

export type StoreRetirement = 'decommissioning' | 'removed';

export interface RangeState {
  desc: RangeDescriptor;
  /** Store of the leader as last reported (0 = unknown). */
  leader: number;
  approxBytes: number;
  approxKeys: number;
}

export type StoreLiveness = 'up' | 'down';

export class ClusterState {
  readonly stores = new Map<number, StoreState>();
  readonly ranges = new Map<number, RangeState>();

  constructor(
    /** A store is down after this long without a heartbeat. */
    readonly downAfterMs: number,
    /** When this PD became leader (stores get a grace period to report). */
    readonly since: number,
  ) {}

  liveness(store: StoreState, now: number): StoreLiveness {
    const last = store.lastHeartbeat === 0 ? this.since : store.lastHeartbeat;
    return now - last <= this.downAfterMs ? 'up' : 'down';
  }

  /** How long a store has been silent (0 when up). */
  downFor(store: StoreState, now: number): number {
    const last = store.lastHeartbeat === 0 ? this.since : store.lastHeartbeat;
    return Math.max(0, now - last - this.downAfterMs);
  }

  /** Stores that may be given replicas: reporting, up, and not retiring. */
  upStores(now: number): StoreState[] {
    return [...this.stores.values()].filter((s) => s.lastHeartbeat !== 0 && this.liveness(s, now) === 'up' && s.retire === undefined);
  }

  /** How many replicas `store` holds. */
  replicasOn(store: number): number {
    let n = 0;
    for (const r of this.ranges.values()) if (r.desc.replicas.some((rep) => rep.store === store)) n++;
    return n;
  }

  /** Ranges in key order. */
  sortedRanges(): RangeState[] {
    return [...this.ranges.values()].sort((a, b) => Buffer.compare(a.desc.start, b.desc.start));
  }

  /** The range holding `key`. */
  locate(key: Uint8Array): RangeState | undefined {
    for (const r of this.ranges.values()) {
      if (Buffer.compare(key, r.desc.start) >= 0 && (r.desc.end.byteLength === 0 || Buffer.compare(key, r.desc.end) < 0)) return r;
    }
    return undefined;
  }

  replicaCounts(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const s of this.stores.keys()) counts.set(s, 0);
    for (const r of this.ranges.values()) for (const rep of r.desc.replicas) counts.set(rep.store, (counts.get(rep.store) ?? 0) + 1);
    return counts;
  }

  leaderCounts(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const s of this.stores.keys()) counts.set(s, 0);
    for (const r of this.ranges.values()) if (r.leader !== 0) counts.set(r.leader, (counts.get(r.leader) ?? 0) + 1);
    return counts;
  }

  /**
   * Records a descriptor if it is newer than what we have (a higher version,
   * or the same version with a higher confVer). Returns true when it changed.
   */
  offer(desc: RangeDescriptor): boolean {
    const cur = this.ranges.get(desc.id);
    if (cur && !isNewer(desc, cur.desc)) return false;
    if (cur) cur.desc = desc;
    else this.ranges.set(desc.id, { desc, leader: 0, approxBytes: 0, approxKeys: 0 });
    return true;
  }
}
