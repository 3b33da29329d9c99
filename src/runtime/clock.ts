/**
 * Time and timers, handed to whoever needs them so that everything else stays
 * testable. The only module besides rng.ts allowed to touch the real clock.
 */
export interface Clock {
  /** Milliseconds since the epoch (wall clock). */
  now(): number;
  /** Monotonic milliseconds for measuring durations. */
  monotonic(): number;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): { unref(): void };
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): { unref(): void };
  clearInterval(handle: unknown): void;
  /** Runs `fn` after the current I/O callbacks: one event-loop turn later. */
  setImmediate(fn: () => void): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
  setImmediate: (fn) => void setImmediate(fn),
};

/** Wall-clock milliseconds since the epoch as ISO 8601 (formatting only: it reads no clock). */
export const isoTime = (epochMs: number): string => new Date(epochMs).toISOString();
