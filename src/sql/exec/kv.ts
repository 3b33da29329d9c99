/**
 * The executor's view of the KV: reads and writes of one transaction, never
 * its commit (committing is the caller's job). A statement writes into a
 * StatementWrites overlay that reaches the transaction only when the whole
 * statement succeeds, so a failing statement leaves the transaction as it
 * was, as SQLite's statement journal does.
 */
import { latin1Of } from '../../common/index.js';
import type { KvTxn } from '../../txn/index.js';

/** What the executor needs of a transaction; no commit, no rollback. */
export type TxnAccess = Pick<KvTxn, 'get' | 'scan' | 'put' | 'delete'>;

export interface KvItem {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** How many keys one scan request asks for. */
const PAGE = 1000;

/** Every item in [gte, lt), page by page. */
async function scanAll(kv: Pick<TxnAccess, 'scan'>, gte: Uint8Array, lt: Uint8Array): Promise<KvItem[]> {
  const out: KvItem[] = [];
  let from = gte;
  for (;;) {
    const { items, more } = await kv.scan(from, lt, PAGE);
    out.push(...items);
    if (!more || items.length === 0) return out;
    from = successor(items[items.length - 1].key);
  }
}

/** The first key after `key`. */
function successor(key: Uint8Array): Uint8Array {
  const next = new Uint8Array(key.length + 1);
  next.set(key);
  return next;
}

export class StatementWrites {
  /** Buffered writes by key; undefined value = delete. */
  private readonly writes = new Map<string, { key: Uint8Array; value: Uint8Array | undefined }>();

  constructor(private readonly txn: TxnAccess) {}

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const own = this.writes.get(latin1Of(key));
    return own ? own.value : this.txn.get(key);
  }

  /** Every item in [gte, lt), in key order: the transaction's merged with this statement's writes. */
  async scanRange(gte: Uint8Array, lt: Uint8Array): Promise<KvItem[]> {
    const merged = new Map<string, KvItem | undefined>();
    for (const item of await scanAll(this.txn, gte, lt)) merged.set(latin1Of(item.key), item);
    for (const [k, w] of this.writes) {
      if (Buffer.compare(w.key, gte) >= 0 && Buffer.compare(w.key, lt) < 0) merged.set(k, w.value && { key: w.key, value: w.value });
    }
    return [...merged.values()].filter((i): i is KvItem => i !== undefined).sort((a, b) => Buffer.compare(a.key, b.key));
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.writes.set(latin1Of(key), { key, value });
  }

  delete(key: Uint8Array): void {
    this.writes.set(latin1Of(key), { key, value: undefined });
  }

  /** Hands the statement's writes to the transaction. */
  flush(): void {
    for (const { key, value } of this.writes.values()) {
      if (value === undefined) this.txn.delete(key);
      else this.txn.put(key, value);
    }
    this.writes.clear();
  }
}
