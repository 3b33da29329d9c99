/**
 * A simulated store's disk: a MemoryEngine that outlives the store process.
 * Each incarnation of the process gets its own view; a crash fences the view,
 * so whatever the dead process still had in flight never reaches the disk
 * (its calls never resolve, as a killed process's never return), and the next
 * incarnation opens the disk as the crash left it. Writes are atomic and
 * durable once they resolve, as a synced LevelDB batch is after kill -9.
 */
import type { BatchOp, Engine } from '../storage/index.js';
import { MemoryEngine } from '../storage/index.js';

const never = <T>(): Promise<T> => new Promise<T>(() => {});

async function* hang(): AsyncIterable<[Uint8Array, Uint8Array]> {
  await never<void>();
}

export class CrashableDisk {
  private readonly disk = new MemoryEngine();
  private current: { dead: boolean } | undefined;

  /** The engine the next incarnation of the process uses. */
  open(): Engine {
    const life = { dead: false };
    this.current = life;
    const disk = this.disk;
    return {
      get: (key) => (life.dead ? never() : disk.get(key)),
      getMany: (keys) => (life.dead ? never() : disk.getMany(keys)),
      write: (ops: readonly BatchOp[]) => (life.dead ? never() : disk.write(ops)),
      range: (gte, lt) => (life.dead ? hang() : disk.range(gte, lt)),
      snapshotRange: (gte, lt) => (life.dead ? hang() : disk.snapshotRange(gte, lt)),
      // Closing a process does not destroy its disk.
      close: async () => {},
    };
  }

  /** Kills the current incarnation's access to the disk. */
  crash(): void {
    if (this.current) this.current.dead = true;
  }
}
