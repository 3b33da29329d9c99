/**
 * The ordered key-value engine under a store: LevelDB (classic-level) for
 * real, and an in-memory twin with the same contract for tests
 * (test/conformance/engine.test.ts runs one suite against both). Keys and
 * values are raw bytes; keys compare bytewise.
 */
import { ClassicLevel } from 'classic-level';
import { DbError } from '../common/index.js';

export type BatchOp = { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array } | { readonly type: 'del'; readonly key: Uint8Array };

export interface Engine {
  /** The value of `key`, or undefined. The caller owns the returned bytes. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** The values of `keys`, in order, read in one call (one hand-off to LevelDB for many keys). */
  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  /**
   * Applies all ops atomically, in order (a later op on the same key wins).
   * With `sync` the call resolves only after the write is on stable storage
   * (fsync); without it a process crash loses nothing but a machine crash may
   * lose a suffix of recent writes.
   */
  write(ops: readonly BatchOp[], sync: boolean): Promise<void>;
  /** Pairs with gte <= key < lt in key order, as of the first step of the iteration. */
  range(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]>;
  /**
   * Like range, but the view is fixed NOW (synchronously): writes after this
   * call are not seen. Used to stream a consistent snapshot of a range.
   */
  snapshotRange(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]>;
  close(): Promise<void>;
}

/** A zero-copy Buffer view: the 'buffer' encoding skips classic-level's per-key conversion. */
const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

export class LevelEngine implements Engine {
  private constructor(private readonly db: ClassicLevel<Buffer, Buffer>) {}

  static async open(dir: string): Promise<LevelEngine> {
    // A 32 MiB memtable (LevelDB's default is 4) flushes and compacts less often, and without Snappy
    // compaction costs less CPU; our values are small and compress little. Measured with bench:ab:
    // PUT +4 %, CPU per PUT -5 to -9 %.
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', writeBufferSize: 32 << 20, compression: false });
    await db.open();
    return new LevelEngine(db);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return (await this.db.get(asBuffer(key))) ?? undefined;
  }

  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return this.db.getMany(keys.map(asBuffer));
  }

  async write(ops: readonly BatchOp[], sync: boolean): Promise<void> {
    if (ops.length === 0) return;
    // The chained batch is ~4x faster than the array form for thousands of ops (measured).
    const batch = this.db.batch();
    for (const op of ops) {
      if (op.type === 'put') batch.put(asBuffer(op.key), asBuffer(op.value));
      else batch.del(asBuffer(op.key));
    }
    await batch.write({ sync });
  }

  async *range(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]> {
    for await (const kv of this.db.iterator({ gte: asBuffer(gte), lt: asBuffer(lt) })) yield kv;
  }

  snapshotRange(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]> {
    // classic-level creates the native iterator, and with it LevelDB's implicit snapshot, in the constructor.
    const it = this.db.iterator({ gte: asBuffer(gte), lt: asBuffer(lt) });
    return (async function* () {
      for await (const kv of it) yield kv;
    })();
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * In-memory twin of LevelEngine: same ordering, atomicity and snapshot
 * semantics, no durability. Stores and hands out copies, as LevelDB does, so
 * callers cannot alias its state.
 */
export class MemoryEngine implements Engine {
  /** Invariant: sorted by key bytewise, keys unique. */
  private pairs: [Uint8Array, Uint8Array][] = [];
  private closed = false;

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.checkOpen();
    const i = this.lowerBound(key);
    return i < this.pairs.length && compareBytes(this.pairs[i][0], key) === 0 ? this.pairs[i][1].slice() : undefined;
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return Promise.all(keys.map((k) => this.get(k)));
  }

  async write(ops: readonly BatchOp[]): Promise<void> {
    this.checkOpen();
    // Synchronous from here on: no reader observes half a batch.
    for (const op of ops) {
      const i = this.lowerBound(op.key);
      const found = i < this.pairs.length && compareBytes(this.pairs[i][0], op.key) === 0;
      if (op.type === 'put') {
        const pair: [Uint8Array, Uint8Array] = [op.key.slice(), op.value.slice()];
        if (found) this.pairs[i] = pair;
        else this.pairs.splice(i, 0, pair);
      } else if (found) {
        this.pairs.splice(i, 1);
      }
    }
  }

  range(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]> {
    // Collected at the first step, like LevelEngine.range's lazily created iterator.
    const collect = () => this.collect(gte, lt);
    return (async function* () {
      yield* collect();
    })();
  }

  snapshotRange(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]> {
    const view = this.collect(gte, lt);
    return (async function* () {
      yield* view;
    })();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** A copy of the pairs in [gte, lt), taken now. */
  private collect(gte: Uint8Array, lt: Uint8Array): [Uint8Array, Uint8Array][] {
    this.checkOpen();
    const out: [Uint8Array, Uint8Array][] = [];
    for (let i = this.lowerBound(gte); i < this.pairs.length && compareBytes(this.pairs[i][0], lt) < 0; i++) {
      out.push([this.pairs[i][0].slice(), this.pairs[i][1].slice()]);
    }
    return out;
  }

  /** The position of the first key >= `key`. */
  private lowerBound(key: Uint8Array): number {
    let lo = 0;
    let hi = this.pairs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.pairs[mid][0], key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private checkOpen(): void {
    if (this.closed) throw new DbError('ENGINE_CLOSED', 'the engine is closed');
  }
}
