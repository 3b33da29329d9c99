/**
 * Hands out strictly increasing numbers (timestamps, ids) from a window whose
 * upper end is persisted through the PD's Raft group before any number in it
 * is handed out. A new leader starts above the persisted end, so numbers keep
 * increasing across leader changes and restarts; persisting once per window
 * keeps the Raft group out of the hot path (PD's TSO and id allocator).
 */
import type { PdGroup } from './group.js';

export class WindowAllocator {
  private next = 0n;
  private limit = -1n;
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * @param floor   the smallest number to hand out now (the physical clock for timestamps)
   * @param window  how many numbers to reserve beyond a request
   */
  constructor(
    private readonly group: PdGroup,
    private readonly key: string,
    private readonly window: bigint,
    private readonly floor: () => bigint,
  ) {}

  /** Called on becoming leader: continue above everything any earlier leader may have handed out. */
  async init(): Promise<void> {
    const persisted = BigInt((await this.group.get(this.key)) ?? '0');
    this.next = max(persisted + 1n, this.floor());
    this.limit = this.next - 1n;
  }

  /** The first of `count` consecutive fresh numbers. */
  take(count: number): Promise<bigint> {
    const run = this.queue.then(async () => {
      const first = max(this.next, this.floor());
      const last = first + BigInt(count) - 1n;
      if (last > this.limit) {
        const limit = last + this.window;
        await this.group.put(this.key, String(limit));
        this.limit = limit;
      }
      this.next = last + 1n;
      return first;
    });
    this.queue = run.catch(() => {});
    return run;
  }
}

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
