/**
 * A store's link to the placement driver: registration (refused with
 * STORE_REFUSED when the store lost the data its replicas had), then a
 * heartbeat per second with the descriptors of the ranges it leads and of
 * those that changed, and every tenth second a full report: every replica,
 * with the approximate size of the ranges it leads. The answers bring the
 * addresses of the other stores (so a store that joins can reach everyone)
 * and the replicas to destroy (removed from their range while this store was
 * away).
 */
import { DbError } from '../common/index.js';
import type { RangeDescriptor } from '../common/index.js';
import type { Logger, Timers } from '../runtime/index.js';
import type { PdClient, WireRangeStat } from '../transport/index.js';
import { leaderStats } from './range-admin.js';
import type { Store } from './store.js';

/** Every tenth heartbeat is full: all replicas, freshly sized (sizing scans the range). */
const SIZE_EVERY = 10;

const epochOf = (r: RangeDescriptor) => `${r.epoch.version}/${r.epoch.confVer}`;

export class StoreHeartbeat {
  private beats = 0;
  private readonly sizes = new Map<number, { bytes: number; keys: number }>();
  /** The epoch of each range as last reported. */
  private readonly reported = new Map<number, string>();
  private timer: { unref(): void } | undefined;
  private inFlight = false;

  constructor(
    private readonly store: Store,
    private readonly pd: PdClient,
    private readonly address: string,
    private readonly timers: Timers,
    private readonly logger: Logger,
    private readonly intervalMs = 1_000,
  ) {}

  /**
   * Registers, then heartbeats; throws if the PD refuses this store (it lost
   * the data its replicas had), in which case it must not take part at all.
   */
  async start(): Promise<void> {
    await this.register();
    this.timer ??= this.timers.setInterval(() => void this.beat(), this.intervalMs);
  }

  private async register(): Promise<void> {
    // Refused (STORE_REFUSED: it lost the data its replicas had), this rejects and the store must not start.
    await this.pd.call('RegisterStore', { id: this.store.cfg.id, address: this.address, pid: process.pid, fresh: this.store.fresh }, 60_000);
    // Accepted: from now on the directory and its replicas are this store's.
    await this.store.claimDataDir();
  }

  private async beat(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const full = this.beats % SIZE_EVERY === 0;
      const ranges = await this.stats(full);
      const res = await this.pd.call('StoreHeartbeat', { store: this.store.cfg.id, address: this.address, pid: process.pid, ranges, full }, 3_000);
      for (const r of ranges) this.reported.set(r.range.id, epochOf(r.range));
      for (const s of res.stores) if (s.id !== this.store.cfg.id && s.address) this.store.peers.set(s.id, s.address);
      for (const rangeId of res.destroyRanges) {
        this.logger.info({ range: rangeId }, 'destroying a replica the placement driver says was removed');
        await this.store.destroyReplica(rangeId);
      }
      // The destroyed replica may have covered ranges this store is listed for and never created (a split
      // it missed while away): the next beat is full, so the placement driver creates them now, not in 10 s.
      if (res.destroyRanges.length > 0) this.beats = 0;
    } catch (err) {
      // A PD whose registry lost this store (a new cluster on old addresses): register again.
      if (err instanceof DbError && err.code === 'STORE_NOT_REGISTERED') await this.register().catch(() => {});
      else this.logger.debug({ err: (err as Error).message }, 'heartbeat failed');
    } finally {
      this.inFlight = false;
    }
  }

  /** Every replica on a full beat (with fresh sizes); otherwise the ones this store leads and the ones that changed. */
  private async stats(full: boolean): Promise<WireRangeStat[]> {
    this.beats++;
    if (full) {
      this.sizes.clear();
      for (const s of await leaderStats(this.store)) this.sizes.set(s.range.id, { bytes: s.approxBytes, keys: s.approxKeys });
    }
    const out: WireRangeStat[] = [];
    for (const r of this.store.replicas.values()) {
      if (!full && !r.isLeader() && this.reported.get(r.rangeId) === epochOf(r.desc.current)) continue;
      const size = this.sizes.get(r.rangeId);
      out.push({ range: r.desc.current, leaderStore: r.leaderStore(), approxBytes: size?.bytes ?? 0, approxKeys: size?.keys ?? 0 });
    }
    return out;
  }

  close(): void {
    if (this.timer) this.timers.clearInterval(this.timer);
  }
}
