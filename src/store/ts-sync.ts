/**
 * A new range leader does not know the snapshot reads its predecessors
 * served, so before it commits a `/kv` write or a one-phase transaction at a
 * timestamp of its own choosing it raises its read floor to a TSO timestamp
 * taken after it became leader (TiKV's max_ts sync): every read served
 * earlier was at a timestamp handed out before that one. Replicas elected
 * together share one TSO call. Without a TSO (the placement driver's own
 * store, tests) a leader is synced at once.
 */
import type { Timestamp } from '../common/index.js';
import type { Logger, Timers } from '../runtime/index.js';
import type { StoreReplica } from './mvcc-range.js';

const RETRY_MS = 100;

export class TimestampSync {
  private waiting = new Map<StoreReplica, number>();
  private running = false;

  constructor(
    private readonly tso: (() => Promise<Timestamp>) | undefined,
    private readonly timers: Timers,
    private readonly logger: Logger,
    private readonly closed: () => boolean,
  ) {}

  /** `r` just became leader in `term`. */
  request(r: StoreReplica, term: number): void {
    if (!this.tso) {
      r.machine.onTsSynced(r, term, 0n);
      return;
    }
    this.waiting.set(r, term);
    if (!this.running) void this.run(this.tso);
  }

  private async run(tso: () => Promise<Timestamp>): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.size > 0 && !this.closed()) {
        const batch = this.waiting;
        this.waiting = new Map();
        try {
          // Taken after every replica in the batch became leader.
          const ts = await tso();
          for (const [r, term] of batch) r.machine.onTsSynced(r, term, ts);
        } catch (err) {
          this.logger.warn({ err: (err as Error).message }, 'cannot reach the TSO to sync new leaders; retrying');
          for (const [r, term] of batch) if (!this.waiting.has(r)) this.waiting.set(r, term);
          await new Promise<void>((res) => this.timers.setTimeout(res, RETRY_MS));
        }
      }
    } finally {
      this.running = false;
    }
  }
}
