/**
 * The engine as seen while one turn's committed entries are applied: the
 * engine's state plus the writes staged earlier in the same batch (which is
 * written once, at the end of the turn). Actions read through it and write
 * into it; it is both the MvccView and the MvccSink of src/txn, and the
 * replica's ApplyView (its exactly-once records, snapshot installs).
 */
import type { Engine, WriteBatch } from '../storage/index.js';
import { keys as keyspace } from '../storage/index.js';
import type { MvccSink, MvccView } from '../txn/index.js';
import type { ApplyView as ReplicaApplyView } from '../replica/index.js';
import type { MetaCache } from './meta-cache.js';
import { latin1Of } from '../common/index.js';

export class ApplyView implements MvccView, MvccSink, ReplicaApplyView {
  /** Staged writes by key (latin1 of the bytes); null = deleted. */
  private readonly staged = new Map<string, Uint8Array | null>();
  /**
   * Staged writes of other than metadata keys, not yet in `staged`: an action
   * rarely reads back a version it wrote in the same turn, so their keys are
   * converted only when a read of such a key comes (see index).
   */
  private unindexed: [Uint8Array, Uint8Array | null][] = [];
  /** Engine values read ahead (see prefetch); null = absent. */
  private readonly fetched = new Map<string, Uint8Array | null>();
  /** Metadata keys this turn read or wrote, with the cache of the replica that owns them (see settleCaches). */
  private readonly touched: [MetaCache, string][] = [];
  /** Write records this turn wrote (null: deleted), in order, with the cache of the replica that owns them. */
  private readonly writtenRecords: [MetaCache, Uint8Array, Uint8Array | null][] = [];
  /** The cache of the replica applying now: its metadata writes are remembered for it. */
  owner: MetaCache | undefined;
  /** The string of the key last converted: an action reads a key and then writes it, with the same bytes object (keys are never mutated). */
  private lastKey: Uint8Array | undefined;
  private lastString = '';

  constructor(
    private readonly engine: Engine,
    private readonly batch: WriteBatch,
  ) {}

  private keyOf(key: Uint8Array): string {
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.lastString = latin1Of(key);
    }
    return this.lastString;
  }

  /** Moves the unindexed writes into `staged`, in the order they were made. */
  private index(): void {
    if (this.unindexed.length === 0) return;
    for (const [key, value] of this.unindexed) this.staged.set(this.keyOf(key), value);
    this.unindexed = [];
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    if (key[0] !== keyspace.META_PREFIX) this.index();
    const k = this.keyOf(key);
    const hit = this.staged.has(k) ? this.staged.get(k) : this.fetched.get(k);
    if (hit !== undefined) return hit ?? undefined;
    return this.engine.get(key);
  }

  /**
   * The metadata keys a replica's entries will read this turn: those in its
   * cache are taken from there; the others are returned, for prefetch.
   */
  lookupCached(cache: MetaCache, keys: readonly Uint8Array[]): Uint8Array[] {
    const misses: Uint8Array[] = [];
    for (const key of keys) {
      const k = this.keyOf(key);
      const cached = cache.get(k);
      if (cached === undefined) misses.push(key);
      else this.fetched.set(k, cached);
      this.touched.push([cache, k]);
    }
    return misses;
  }

  /**
   * Reads `keys` from the engine in one call, before a turn's entries apply:
   * each entry then finds its key's metadata here instead of waiting on its
   * own LevelDB read, one after another.
   */
  async prefetch(keys: readonly Uint8Array[]): Promise<void> {
    if (keys.length === 0) return;
    const values = await this.engine.getMany(keys);
    keys.forEach((key, i) => this.fetched.set(this.keyOf(key), values[i] ?? null));
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.batch.put(key, value);
    this.stage(key, value);
  }

  del(key: Uint8Array): void {
    this.batch.del(key);
    this.stage(key, null);
  }

  private stage(key: Uint8Array, value: Uint8Array | null): void {
    if (key[0] !== keyspace.META_PREFIX) {
      this.unindexed.push([key, value]);
      if (key[0] === keyspace.WRITE_PREFIX && this.owner) this.writtenRecords.push([this.owner, key, value]);
      return;
    }
    const k = this.keyOf(key);
    this.staged.set(k, value);
    if (this.owner) this.touched.push([this.owner, k]);
  }

  /** Once the turn's batch is on disk: the owners' caches learn the metadata the turn read and wrote, and its write records. */
  settleCaches(): void {
    for (const [cache, k] of this.touched) {
      const v = this.staged.has(k) ? this.staged.get(k) : this.fetched.get(k);
      if (v !== undefined) cache.set(k, v);
    }
    for (const [cache, key, value] of this.writtenRecords) cache.setWrite(latin1Of(key), value);
  }

  /** The staged writes with gte <= key < lt (live pairs only). */
  stagedIn(gte: Uint8Array, lt: Uint8Array): [Uint8Array, Uint8Array][] {
    this.index();
    const out: [Uint8Array, Uint8Array][] = [];
    for (const [k, v] of this.staged) {
      if (v === null) continue;
      const key = Buffer.from(k, 'latin1');
      if (Buffer.compare(key, gte) >= 0 && Buffer.compare(key, lt) < 0) out.push([key, v]);
    }
    return out;
  }

  /** The engine's pairs in [gte, lt) merged with the staged writes (as of the first step). */
  async *range(gte: Uint8Array, lt: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]> {
    this.index();
    const { staged } = this;
    if (staged.size === 0) {
      yield* this.engine.range(gte, lt);
      return;
    }
    const overlay: [string, Uint8Array | null][] = [];
    const lo = this.keyOf(gte);
    const hi = this.keyOf(lt);
    // latin1 strings compare like the bytes they hold.
    for (const [k, v] of staged) if (k >= lo && k < hi) overlay.push([k, v]);
    overlay.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let i = 0;
    for await (const [k, v] of this.engine.range(gte, lt)) {
      const ks = this.keyOf(k);
      for (; i < overlay.length && overlay[i][0] < ks; i++) if (overlay[i][1] !== null) yield [Buffer.from(overlay[i][0], 'latin1'), overlay[i][1]!];
      if (i < overlay.length && overlay[i][0] === ks) {
        if (overlay[i][1] !== null) yield [k, overlay[i][1]!];
        i++;
      } else {
        yield [k, v];
      }
    }
    for (; i < overlay.length; i++) if (overlay[i][1] !== null) yield [Buffer.from(overlay[i][0], 'latin1'), overlay[i][1]!];
  }
}
