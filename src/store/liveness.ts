/**
 * Store-level liveness. Quiesced ranges send no heartbeats, so a quiesced
 * follower cannot notice its leader die through Raft; instead every store
 * pings every peer store once per tick (one frame per pair, however many
 * ranges they share), and a store not heard from for an election timeout
 * counts as silent: the followers of ranges it leads wake up and may elect.
 */
import type { Clock } from '../runtime/index.js';

export class PeerLiveness {
  /** When each peer store was last heard from (monotonic ms). */
  private readonly lastHeard = new Map<number, number>();

  constructor(
    private readonly clock: Clock,
    /** Silence longer than this (an election timeout) counts as down. */
    private readonly deadAfterMs: number,
  ) {}

  heardFrom(store: number): void {
    this.lastHeard.set(store, this.clock.monotonic());
  }

  /** The peers (of `stores`, other than `self`) silent for longer than an election timeout. */
  silent(stores: Iterable<number>, self: number): Set<number> {
    const now = this.clock.monotonic();
    const out = new Set<number>();
    for (const s of stores) if (s !== self && now - (this.lastHeard.get(s) ?? 0) > this.deadAfterMs) out.add(s);
    return out;
  }
}
