/**
 * The key-value engine under a store: LevelDB (classic-level) for real, and an
 * in-memory twin with the same ordering semantics for tests. Keys and values
 * are raw bytes compared bytewise.
 */
import { ClassicLevel } from 'classic-level';

export type BatchOp = { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array } | { readonly type: 'del'; readonly key: Uint8Array };

export interface Engine {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Applies all ops atomically; with `sync` the call resolves only after an fsync. */
  write(ops: readonly BatchOp[], sync: boolean): Promise<void>;
  /** Entries with gte <= key < lt, in key order. */
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
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    return new LevelEngine(db);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return (await this.db.get(asBuffer(key))) ?? undefined;
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
    // classic-level creates the native iterator (and its implicit snapshot) in the constructor.
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

const hex = (k: Uint8Array): string => Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('latin1');

/** In-memory twin of LevelEngine: same contract, no durability. */
export class MemoryEngine implements Engine {
  private readonly map = new Map<string, [Uint8Array, Uint8Array]>();

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.map.get(hex(key))?.[1];
  }

  async write(ops: readonly BatchOp[]): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') this.map.set(hex(op.key), [op.key.slice(), op.value.slice()]);
      else this.map.delete(hex(op.key));
    }
  }

  snapshotRange(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]> {
    const hits = [...this.map.values()].filter(([k]) => compareBytes(k, gte) >= 0 && compareBytes(k, lt) < 0);
    hits.sort(([a], [b]) => compareBytes(a, b));
    return (async function* () {
      yield* hits;
    })();
  }

  async *range(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]> {
    const hits = [...this.map.values()].filter(([k]) => compareBytes(k, gte) >= 0 && compareBytes(k, lt) < 0);
    hits.sort(([a], [b]) => compareBytes(a, b));
    for (const kv of hits) yield kv;
  }

  async close(): Promise<void> {}
}
