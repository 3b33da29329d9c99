/**
 * Deadlines of one length for many short requests, kept by one timer: a Node
 * timer per request costs an object, a list insert and a removal on the hot
 * path of every request; here adding and removing a deadline is a Map
 * operation, and an interval that runs only while deadlines are pending
 * sweeps the expired ones. All deadlines have the same length, so they expire
 * in the order they were added and a sweep stops at the first still in time.
 * A deadline fires up to a tenth of its length late.
 */
import type { Clock, Timers } from './clock.js';

interface Deadline {
  readonly expiresAt: number;
  readonly onExpire: () => void;
}

export class DeadlineSweeper {
  private readonly pending = new Map<number, Deadline>();
  private nextId = 0;
  private timer: { unref(): void } | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers,
    /** The length of every deadline (monotonic ms). */
    readonly ms: number,
  ) {}

  /** Calls `onExpire` once `ms` have passed, unless removed first; returns the deadline's id. */
  add(onExpire: () => void): number {
    const id = ++this.nextId;
    this.pending.set(id, { expiresAt: this.clock.monotonic() + this.ms, onExpire });
    if (!this.timer) {
      this.timer = this.timers.setInterval(() => this.sweep(), Math.max(1, this.ms / 10));
      this.timer.unref();
    }
    return id;
  }

  remove(id: number): void {
    this.pending.delete(id);
  }

  private sweep(): void {
    const now = this.clock.monotonic();
    for (const [id, d] of this.pending) {
      if (d.expiresAt > now) break;
      this.pending.delete(id);
      d.onExpire();
    }
    if (this.pending.size === 0) this.stop();
  }

  private stop(): void {
    if (this.timer) this.timers.clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Drops every pending deadline without firing it. */
  close(): void {
    this.pending.clear();
    this.stop();
  }
}
