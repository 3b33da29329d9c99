/**
 * A replica's recently used key metadata (the lock and newest version of a
 * key, see src/txn/mvcc/records.ts), so that a `/kv` get and the apply of a
 * write to a hot key skip their LevelDB read; and, per key, the write record
 * written last (it holds the newest version's value when short), so that a
 * get of the newest value needs no LevelDB read at all. It holds the state as
 * of the last written loop turn: it is filled only by the store's event loop
 * after a turn's batch is on disk (with what the turn read and wrote), never
 * by a read racing a turn; a snapshot install clears it. Bounded: the entries
 * cached first go first (an update keeps its place; cheaper than exact LRU).
 */
import { keys } from '../storage/index.js';

const MAX_ENTRIES = 16_384;
/** Write records hold values up to 256 B inline: at most ~1 MiB of them per replica. */
const MAX_WRITES = 4_096;

export class MetaCache {
  /** By the latin1 form of the metadata key; null = known absent. */
  private readonly entries = new Map<string, Uint8Array | null>();
  /** By the latin1 form of the metadata key: the latin1 form of the key's last written write record, and its bytes. */
  private readonly writes = new Map<string, [string, Uint8Array]>();

  /** The cached value: bytes, null (absent), or undefined (not cached). */
  get(key: string): Uint8Array | null | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: Uint8Array | null): void {
    this.entries.set(key, value);
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  /** The bytes of the write record at `writeKey` when it is its key's last written one; undefined: not cached. */
  getWrite(writeKey: string): Uint8Array | undefined {
    const hit = this.writes.get(metaKeyOfWrite(writeKey));
    return hit?.[0] === writeKey ? hit[1] : undefined;
  }

  /** The write record at `writeKey` was written (bytes) or deleted (null). */
  setWrite(writeKey: string, value: Uint8Array | null): void {
    const metaKey = metaKeyOfWrite(writeKey);
    if (value !== null) {
      this.writes.set(metaKey, [writeKey, value]);
      if (this.writes.size > MAX_WRITES) this.writes.delete(this.writes.keys().next().value!);
    } else if (this.writes.get(metaKey)?.[0] === writeKey) {
      this.writes.delete(metaKey);
    }
  }

  clear(): void {
    this.entries.clear();
    this.writes.clear();
  }
}

/**
 * A write key is WRITE_PREFIX, the encoded user key and an 8-byte timestamp;
 * its metadata key is META_PREFIX and the same encoded user key (see
 * src/storage/keys.ts).
 */
const META_PREFIX = String.fromCharCode(keys.META_PREFIX);
const metaKeyOfWrite = (writeKey: string): string => META_PREFIX + writeKey.slice(1, -8);
