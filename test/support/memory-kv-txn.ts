/**
 * MemoryKvTxn: a KvTxn over a sorted in-memory map, for unit tests of code
 * that reads and writes through a transaction (the SQL executor). Writes
 * apply at once; commit and rollback record that they were called, so a
 * test can check that the code under test called neither. Scans page by
 * `limit` like the real one. A transaction opened over a base starts from a
 * copy of the base's data and, on commit, replaces the base's data with its
 * own: enough for a store that runs one statement at a time (sqllogictest).
 */
import { latin1Of } from '../../src/common/index.js';
import type { KvTxn } from '../../src/txn/index.js';

export class MemoryKvTxn implements KvTxn {
  readonly startTs = 1n;
  readonly data = new Map<string, { key: Uint8Array; value: Uint8Array }>();
  commits = 0;
  rollbacks = 0;

  constructor(private readonly base?: MemoryKvTxn) {
    if (base) for (const [k, item] of base.data) this.data.set(k, item);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.data.get(latin1Of(key))?.value;
  }

  async scan(start: Uint8Array, end: Uint8Array, limit: number): Promise<{ items: { key: Uint8Array; value: Uint8Array }[]; more: boolean }> {
    const inRange = [...this.data.values()]
      .filter((i) => Buffer.compare(i.key, start) >= 0 && (end.length === 0 || Buffer.compare(i.key, end) < 0))
      .sort((a, b) => Buffer.compare(a.key, b.key));
    return { items: inRange.slice(0, limit), more: inRange.length > limit };
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.data.set(latin1Of(key), { key, value });
  }

  delete(key: Uint8Array): void {
    this.data.delete(latin1Of(key));
  }

  async commit(): Promise<void> {
    this.commits++;
    if (!this.base) return;
    this.base.data.clear();
    for (const [k, item] of this.data) this.base.data.set(k, item);
  }

  rollback(): void {
    this.rollbacks++;
  }

  /** Every key and value, in key order, as hex: a snapshot to compare. */
  snapshot(): string[] {
    return [...this.data.values()].sort((a, b) => Buffer.compare(a.key, b.key)).map((i) => `${Buffer.from(i.key).toString('hex')}=${Buffer.from(i.value).toString('hex')}`);
  }
}
