/**
 * A simulated network between Raft nodes: every message is delayed by a
 * random number of ticks (which reorders them), and may be dropped or
 * duplicated; links can be cut in one or both directions. All randomness comes
 * from the seeded Rng, so a run replays exactly.
 */
import type { NodeId } from '../common/index.js';
import type { Message } from '../raft/index.js';
import type { SeededRng } from '../runtime/index.js';

export interface NetworkFaults {
  dropRate: number;
  dupRate: number;
  minDelay: number;
  maxDelay: number;
}

export const CALM: NetworkFaults = { dropRate: 0, dupRate: 0, minDelay: 1, maxDelay: 2 };

export type Delivery = { readonly msg: Message; readonly ok: boolean };

export class SimNetwork {
  faults: NetworkFaults = { ...CALM };
  /** Cut directed links, as "from>to". */
  private readonly cut = new Set<string>();
  /** Messages by the tick they arrive at. */
  private readonly inFlight = new Map<number, Message[]>();
  sent = 0;
  dropped = 0;

  constructor(private readonly rng: SeededRng) {}

  send(msg: Message, now: number): void {
    this.sent++;
    const copies = this.rng.chance(this.faults.dupRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.faults.minDelay + this.rng.int(this.faults.maxDelay - this.faults.minDelay + 1);
      const at = now + Math.max(1, delay);
      let bucket = this.inFlight.get(at);
      if (!bucket) this.inFlight.set(at, (bucket = []));
      bucket.push(msg);
    }
  }

  /**
   * The messages arriving at `now`, in a random order; `ok` is false for those
   * lost (dropped, or on a link cut at send or arrival time).
   */
  arrivals(now: number): Delivery[] {
    const bucket = this.inFlight.get(now);
    if (!bucket) return [];
    this.inFlight.delete(now);
    shuffle(bucket, this.rng);
    return bucket.map((msg) => {
      const ok = !this.isCut(msg.from, msg.to) && !this.rng.chance(this.faults.dropRate);
      if (!ok) this.dropped++;
      return { msg, ok };
    });
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cut.has(`${from}>${to}`);
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  /** Splits the nodes into groups that cannot talk to each other. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.cutOneWay(x, y);
      }
    }
  }

  isolate(id: NodeId, all: readonly NodeId[]): void {
    this.partition([[id], all.filter((x) => x !== id)]);
  }

  heal(): void {
    this.cut.clear();
  }

  hasCuts(): boolean {
    return this.cut.size > 0;
  }
}

function shuffle<T>(xs: T[], rng: SeededRng): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
}
