/**
 * Timestamps for a gateway's `/kv` writes. A write commits at
 * max(ts, floor) + 1 (see src/txn/actions/kv-write.ts), so its timestamp
 * needs only:
 *   - to have been issued by the TSO before the write is answered: a
 *     transaction that starts later gets a higher one and sees the write;
 *   - to name the write among its key's versions: a resend finds its own
 *     version by it.
 * One TSO timestamp therefore serves every write of this gateway to distinct
 * keys for a few milliseconds, and a second write to a key waits for the next
 * timestamp. Timestamps from different gateways never collide: the TSO issues
 * each once. Under load the TSO is asked about once per `maxAgeMs` instead of
 * once per write round; an older timestamp only makes a key that moved past
 * it answer TS_TOO_OLD, and the writer then asks for a fresh one.
 */
import type { Timestamp } from '../../common/index.js';
import type { Clock } from '../../runtime/index.js';
import type { TsoBatcher } from './tso-batcher.js';

const DEFAULT_MAX_AGE_MS = 20;

export class WriteTimestamps {
  private current: Timestamp | undefined;
  private takenAt = 0;
  /** The keys written with `current` (latin1 of their bytes). */
  private usedBy = new Set<string>();
  private renewing: Promise<void> | undefined;

  constructor(
    private readonly tso: TsoBatcher,
    private readonly clock: Clock,
    private readonly maxAgeMs = DEFAULT_MAX_AGE_MS,
  ) {}

  /** A timestamp that no earlier write of `key` through this gateway used. */
  async forKey(key: Uint8Array): Promise<Timestamp> {
    const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
    for (;;) {
      const age = this.clock.monotonic() - this.takenAt;
      if (this.current !== undefined && age < this.maxAgeMs && !this.usedBy.has(k)) {
        // Renewed ahead of time, so that a steady stream of writes never waits on the TSO.
        if (age * 2 >= this.maxAgeMs) void this.renew().catch(() => {});
        this.usedBy.add(k);
        return this.current;
      }
      await this.renew();
    }
  }

  private renew(): Promise<void> {
    this.renewing ??= this.tso
      .next()
      .then((ts) => {
        this.current = ts;
        this.takenAt = this.clock.monotonic();
        this.usedBy = new Set();
      })
      .finally(() => {
        this.renewing = undefined;
      });
    return this.renewing;
  }
}
