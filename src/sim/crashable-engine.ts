/**
 * A simulated store's disk: a MemoryEngine that outlives the store process.
 * Each incarnation of the process gets its own view; a crash fences the view,
 * so whatever the dead process still had in flight never reaches the disk
 * (its calls never resolve, as a killed process's never return), and the next
 * incarnation opens the disk as the crash left it. Writes are atomic and
 * durable once they resolve, as a synced LevelDB batch is after kill -9.
 *
 * Two faults of the disk itself: slow writes (each synced batch takes a
 * while, as on a saturated or failing device), and a failed write (an fsync
 * error: the batch may or may not have reached the disk, and the write
 * rejects with a DiskFault).
 */
import type { Timers } from '../runtime/index.js';
import type { Rng } from '../common/index.js';
import type { BatchOp, Engine } from '../storage/index.js';
import { MemoryEngine } from '../storage/index.js';

const never = <T>(): Promise<T> => new Promise<T>(() => {});

async function* hang(): AsyncIterable<[Uint8Array, Uint8Array]> {
  await never<void>();
}

/** The injected failure of a write (what an fsync error is to LevelDB's caller). */
export class DiskFault extends Error {
  override readonly name = 'DiskFault';
}

export class CrashableDisk {
  private readonly disk = new MemoryEngine();
  private current: { dead: boolean } | undefined;
  /** Milliseconds each write takes while the disk is slow. */
  private writeDelay: (() => number) | undefined;
  private failNext = false;

  /** @param timers  the world's timers (a disk keeps time whatever its process does); @param rng  whether a failed write landed */
  constructor(
    private readonly timers: Timers,
    private readonly rng: Rng,
  ) {}

  /** The engine the next incarnation of the process uses. */
  open(): Engine {
    const life = { dead: false };
    this.current = life;
    const disk = this.disk;
    return {
      get: (key) => (life.dead ? never() : disk.get(key)),
      getMany: (keys) => (life.dead ? never() : disk.getMany(keys)),
      write: (ops: readonly BatchOp[]) => (life.dead ? never() : this.write(life, ops)),
      range: (gte, lt) => (life.dead ? hang() : disk.range(gte, lt)),
      snapshotRange: (gte, lt) => (life.dead ? hang() : disk.snapshotRange(gte, lt)),
      // Closing a process does not destroy its disk.
      close: async () => {},
    };
  }

  private async write(life: { dead: boolean }, ops: readonly BatchOp[]): Promise<void> {
    if (this.writeDelay) {
      const ms = this.writeDelay();
      await new Promise<void>((r) => this.timers.setTimeout(r, ms));
      if (life.dead) return never();
    }
    if (this.failNext) {
      this.failNext = false;
      // After an fsync error nobody knows whether the data is on the disk: either may be true.
      if (this.rng.int(2) === 0) await this.disk.write(ops);
      throw new DiskFault('injected fsync failure');
    }
    return this.disk.write(ops);
  }

  /** Kills the current incarnation's access to the disk. */
  crash(): void {
    if (this.current) this.current.dead = true;
  }

  /** Every write takes `delay()` ms from now on (undefined: at disk speed again). */
  slowWrites(delay: (() => number) | undefined): void {
    this.writeDelay = delay;
  }

  /** The next write fails (a DiskFault). */
  failNextWrite(): void {
    this.failNext = true;
  }

  /** No slow or failing writes any more. */
  heal(): void {
    this.writeDelay = undefined;
    this.failNext = false;
  }
}
