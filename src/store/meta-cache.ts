/**
 * A replica's recently used key metadata (the lock and newest version of a
 * key, see src/txn/mvcc/records.ts), so that a `/kv` get and the apply of a
 * write to a hot key skip their LevelDB read. It holds the state as of the
 * last written loop turn: it is filled only by the store's event loop after
 * a turn's batch is on disk (with what the turn read and wrote), never by a
 * read racing a turn; a snapshot install clears it. Bounded: the entries
 * cached first go first (an update keeps its place; cheaper than exact LRU).
 */
const MAX_ENTRIES = 16_384;

export class MetaCache {
  /** By the latin1 form of the metadata key; null = known absent. */
  private readonly entries = new Map<string, Uint8Array | null>();

  /** The cached value: bytes, null (absent), or undefined (not cached). */
  get(key: string): Uint8Array | null | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: Uint8Array | null): void {
    this.entries.set(key, value);
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }
}
