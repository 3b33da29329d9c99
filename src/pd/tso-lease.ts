/**
 * When the PD leader may hand out timestamps without a quorum round per
 * request. A confirm (a linearizable read of the group) that starts at time
 * s and succeeds proves no other member had been elected by s; the leader
 * then serves for LEASE ms of its monotonic clock from s. A new leader
 * serves only LEASE ms after it took over, so every timestamp its
 * predecessor handed out under a lease came first, and from a lower window.
 * The monotonic clock keeps running through a pause (SIGSTOP, a long GC), so
 * a leader that wakes up late finds its lease over and confirms again.
 */
import { DbError } from '../common/index.js';
import type { Clock, Timers } from '../runtime/index.js';
import type { PdGroup } from './group.js';
import { TSO_KEY } from './meta-keys.js';

export const TSO_LEASE_MS = 1_000;

export class TsoLease {
  private readonly notBefore: number;
  private validUntil = 0;
  private confirming: Promise<void> | undefined;

  constructor(
    private readonly group: PdGroup,
    private readonly term: number,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly leaseMs = TSO_LEASE_MS,
  ) {
    this.notBefore = clock.monotonic() + leaseMs;
  }

  /** Resolves when a timestamp taken now may be handed out; renews the lease ahead of its end. */
  async hold(): Promise<void> {
    const wait = this.notBefore - this.clock.monotonic();
    if (wait > 0) await new Promise<void>((r) => this.timers.setTimeout(r, wait));
    const left = this.validUntil - this.clock.monotonic();
    if (left <= 0) return this.confirm();
    if (left < this.leaseMs / 2) void this.confirm().catch(() => {});
  }

  /** Whether the lease still holds now (checked again after a timestamp was taken). */
  held(): boolean {
    const now = this.clock.monotonic();
    return now >= this.notBefore && now < this.validUntil;
  }

  private confirm(): Promise<void> {
    this.confirming ??= (async () => {
      const start = this.clock.monotonic();
      try {
        await this.group.get(TSO_KEY);
        if (this.group.term() !== this.term) throw new DbError('UNAVAILABLE', 'placement driver leadership changed');
        this.validUntil = Math.max(this.validUntil, start + this.leaseMs);
      } finally {
        this.confirming = undefined;
      }
    })();
    return this.confirming;
  }
}
