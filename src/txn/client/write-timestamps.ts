/**
 * Timestamps for a gateway's `/kv` writes. A write commits at
 * max(ts, floor) + 1 (see src/txn/actions/kv-write.ts), so its timestamp
 * needs only:
 *   - to have been issued by the TSO before the write is answered: a
 *     transaction that starts later gets a higher one and sees the write;
 *   - to name the write among its key's versions: a resend finds its own
 *     version by it.
 * So the gateway takes SPAN consecutive timestamps in one TSO call and uses
 * them for `maxAgeMs`: the n-th write to a key in that time gets the n-th of
 * them (a key's writes stay in order), and a key written more often waits for
 * the next call. Different gateways never share a timestamp: the TSO issues
 * each once. Under load the TSO is asked about once per `maxAgeMs / 2`
 * instead of once per write round (a call costs the placement driver about
 * 0.5 ms of CPU at low rates); an older timestamp only makes a key that moved
 * past it answer TS_TOO_OLD, and the writer then asks for a fresh one.
 */
import type { Timestamp } from '../../common/index.js';
import type { Clock } from '../../runtime/index.js';
import type { TsoBatcher } from './tso-batcher.js';

const DEFAULT_MAX_AGE_MS = 50;
/** Consecutive timestamps per TSO call: how often one key may be written until the next call. */
const SPAN = 16;

export class WriteTimestamps {
  private current: Timestamp | undefined;
  private takenAt = 0;
  /** How many of the timestamps from `current` on each key has used (by the latin1 of its bytes). */
  private usedBy = new Map<string, number>();
  private renewing: Promise<void> | undefined;

  constructor(
    private readonly tso: TsoBatcher,
    private readonly clock: Clock,
    private readonly maxAgeMs = DEFAULT_MAX_AGE_MS,
  ) {}

  /** A timestamp that no earlier write of `key` through this gateway used. */
  async forKey(key: Uint8Array): Promise<Timestamp> {
    for (;;) {
      const ts = this.tryForKey(key);
      if (ts !== undefined) return ts;
      await this.renew();
    }
  }

  /** forKey without waiting: undefined when the current timestamps are too old or `key` has used them all. */
  tryForKey(key: Uint8Array): Timestamp | undefined {
    const age = this.clock.monotonic() - this.takenAt;
    if (this.current === undefined || age >= this.maxAgeMs) return undefined;
    const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
    const used = this.usedBy.get(k) ?? 0;
    if (used === SPAN) return undefined;
    // Renewed ahead of time, so that a steady stream of writes never waits on the TSO.
    if (age * 2 >= this.maxAgeMs) void this.renew().catch(() => {});
    this.usedBy.set(k, used + 1);
    return this.current + BigInt(used);
  }

  private renew(): Promise<void> {
    this.renewing ??= this.tso
      .nextRange(SPAN)
      .then((ts) => {
        this.current = ts;
        this.takenAt = this.clock.monotonic();
        this.usedBy = new Map();
      })
      .finally(() => {
        this.renewing = undefined;
      });
    return this.renewing;
  }
}
