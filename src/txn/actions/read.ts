/**
 * Reads at a timestamp, outside the log: a get and a scan over the key
 * metadata. A lock of a transaction that started at or below the read's
 * timestamp blocks the read, since that transaction may yet commit below it:
 * the locks are returned for the reader to resolve (Percolator §2.2). A `/kv`
 * read runs at LATEST, so any lock blocks it.
 */
import type { Timestamp } from '../../common/index.js';
import { keys } from '../../storage/index.js';
import { decodeMeta } from '../mvcc/records.js';
import type { MvccTxn } from '../mvcc/txn.js';
import { valueAt } from '../mvcc/reader.js';
import type { KeyLock } from './types.js';

/** Above every timestamp: the newest committed state. */
export const LATEST: Timestamp = 0xffff_ffff_ffff_ffffn;

export type GetResult = { readonly kind: 'value'; readonly value: Uint8Array | undefined } | { readonly kind: 'locked'; readonly locks: readonly KeyLock[] };

export async function get(txn: MvccTxn, key: Uint8Array, ts: Timestamp): Promise<GetResult> {
  const meta = await txn.meta(key);
  if (meta?.lock && meta.lock.startTs <= ts) return { kind: 'locked', locks: [{ ...meta.lock, key }] };
  return { kind: 'value', value: await valueAt(txn, key, meta, ts) };
}

export interface ScanResult {
  readonly items: { key: Uint8Array; value: Uint8Array }[];
  readonly more: boolean;
  /** Non-empty: the scan met these locks and its items are incomplete; resolve them and scan again. */
  readonly locks: KeyLock[];
}

/** Up to `limit` present keys in [start, end) at ts, in key order. */
export async function scan(txn: MvccTxn, start: Uint8Array, end: Uint8Array, ts: Timestamp, limit: number): Promise<ScanResult> {
  const { gte, lt } = keys.metaBounds(start, end);
  const items: { key: Uint8Array; value: Uint8Array }[] = [];
  const locks: KeyLock[] = [];
  for await (const [k, v] of txn.view.range(gte, lt)) {
    if (items.length === limit) return { items, more: true, locks };
    const meta = decodeMeta(v);
    const key = keys.userKeyOfMeta(k);
    if (meta.lock && meta.lock.startTs <= ts) {
      locks.push({ ...meta.lock, key });
      continue;
    }
    const value = await valueAt(txn, key, meta, ts);
    if (value !== undefined) items.push({ key, value });
  }
  return { items, more: false, locks };
}
