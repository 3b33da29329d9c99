/**
 * Simulated time for the whole-cluster simulator: one virtual clock and one
 * queue of timer events, ordered by (time, arming order), so a run replays bit
 * for bit. Between two events every pending promise continuation runs to
 * completion (the code under test is async over in-memory twins whose
 * operations resolve as microtasks), so nothing depends on real time.
 *
 * `scope()` hands each simulated process its own Timers: killing the scope (a
 * crash) drops every timer the process armed; pausing it (SIGSTOP, a long GC)
 * holds its due events while the clock runs on, and resuming fires them at
 * once, as a process that wakes up finds its timers overdue (just after the
 * messages that waited for it, as Node's poll phase comes first).
 */
import type { Clock, Timers } from './clock.js';

interface TimerEvent {
  at: number;
  seq: number;
  readonly fn: () => void;
  /** Re-armed every `every` ms after it fires (setInterval). */
  readonly every: number | undefined;
  readonly scope: TimerScope;
  cancelled: boolean;
}

interface TimerScope {
  dead: boolean;
  /** Paused (SIGSTOP): its due events wait here, in order, until it resumes. */
  parked: TimerEvent[] | undefined;
}

/** How long after a resume its overdue events fire: after everything due at that instant (see `resume`). */
const RESUMED_TIMERS_LAG_MS = 0.01;

const handle = (e: TimerEvent) => ({ unref: () => {}, event: e });
const eventOf = (h: unknown) => (h as { event?: TimerEvent } | undefined)?.event;

export class SimScheduler implements Clock {
  private time = 0;
  private seq = 0;
  /** A binary min-heap by (at, seq). */
  private readonly heap: TimerEvent[] = [];
  /** Events run so far. */
  steps = 0;

  /** Virtual milliseconds since the start, as both clocks read them (the wall clock starts at an arbitrary fixed epoch). */
  monotonic(): number {
    return this.time;
  }

  /** Whole milliseconds, as Date.now() (a timer set from a skewed clock can make simulated time fractional). */
  now(): number {
    return 1_800_000_000_000 + Math.floor(this.time);
  }

  /** Timers whose events all die with `kill()`. */
  scope(): Timers & { kill(): void; pause(): void; resume(): void } {
    const scope: TimerScope = { dead: false, parked: undefined };
    const arm = (fn: () => void, ms: number, every: number | undefined) => handle(this.arm(fn, ms, every, scope));
    const cancel = (h: unknown) => {
      const e = eventOf(h);
      if (e) e.cancelled = true;
    };
    return {
      setTimeout: (fn, ms) => arm(fn, ms, undefined),
      clearTimeout: cancel,
      setInterval: (fn, ms) => arm(fn, ms, Math.max(1, ms)),
      clearInterval: cancel,
      setImmediate: (fn) => void arm(fn, 0, undefined),
      kill: () => {
        scope.dead = true;
      },
      pause: () => {
        scope.parked ??= [];
      },
      resume: () => {
        const parked = scope.parked ?? [];
        scope.parked = undefined;
        // Node woken in its poll phase runs the sockets' callbacks, and what they set immediately,
        // before the loop comes round to the overdue timers: they run just after what is due now.
        for (const e of parked) {
          e.at = this.time + RESUMED_TIMERS_LAG_MS;
          e.seq = this.seq++;
          this.push(e);
        }
      },
    };
  }

  private arm(fn: () => void, ms: number, every: number | undefined, scope: TimerScope): TimerEvent {
    const e: TimerEvent = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, every, scope, cancelled: false };
    this.push(e);
    return e;
  }

  /** Runs events in order until virtual time `until` or until `done()` holds; resolves at that time. */
  async runUntil(until: number, done: () => boolean = () => false): Promise<void> {
    while (this.heap.length > 0 && this.heap[0].at <= until && !done()) {
      const e = this.pop();
      if (e.cancelled || e.scope.dead) continue;
      if (e.scope.parked) {
        e.scope.parked.push(e);
        continue;
      }
      this.time = e.at;
      this.steps++;
      if (e.every !== undefined) {
        // The same event goes back in, so the caller's handle still cancels it.
        e.at += e.every;
        e.seq = this.seq++;
        this.push(e);
      }
      e.fn();
      await drainMicrotasks();
    }
    if (!done()) this.time = Math.max(this.time, until);
  }

  private push(e: TimerEvent): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): TimerEvent {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

const before = (a: TimerEvent, b: TimerEvent) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** Resolves once every promise continuation queued so far (and those they queue) has run. */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
