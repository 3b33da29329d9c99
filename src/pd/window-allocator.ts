/**
 * Hands out strictly increasing numbers (timestamps, ids) from a window whose
 * upper end is persisted through the PD's Raft group before any number in it
 * is handed out. A new leader starts above the persisted end, so numbers keep
 * increasing across leader changes and restarts; persisting once per window
 * keeps the Raft group out of the hot path (PD's TSO and id allocator).
 */
import type { PdGroup } from './group.js';

export class WindowAllocator {
  private next = 0;
  private limit = -1;
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * @param floor   the smallest number to hand out now (the physical clock for timestamps)
   * @param window  how many numbers to reserve beyond a request
   */
  constructor(
    private readonly group: PdGroup,
    private readonly key: string,
    private readonly window: number,
    private readonly floor: () => number,
  ) {}

  /** Called on becoming leader: continue above everything any earlier leader may have handed out. */
  async init(): Promise<void> {
    const persisted = Number((await this.group.get(this.key)) ?? '0');
    this.next = Math.max(persisted + 1, this.floor());
    this.limit = this.next - 1;
  }

  /** The first of `count` consecutive fresh numbers. */
  take(count: number): Promise<number> {
    const run = this.queue.then(async () => {
      const first = Math.max(this.next, this.floor());
      const last = first + count - 1;
      if (last > this.limit) {
        const limit = last + this.window;
        await this.group.put(this.key, String(limit));
        this.limit = limit;
      }
      this.next = last + 1;
      return first;
    });
    this.queue = run.catch(() => {});
    return run;
  }
}
