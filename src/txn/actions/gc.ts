/**
 * MVCC garbage collection below a safe point (TiKV's GC worker, through the
 * log here so every replica drops the same records): for each key, the
 * version visible at the safe point is kept if it is a put, and everything
 * older goes, rollback records included; a delete at or below the safe point
 * goes with all it hides. The metadata stays: its maxTs still fails a
 * prewrite that arrives late, and no reader at or above the safe point needs
 * more. Locks are left to lock resolution.
 */
import { keys } from '../../storage/index.js';
import type { Timestamp } from '../../common/index.js';
import { decodeMeta } from '../mvcc/records.js';
import type { KeyMeta, WriteRecord } from '../mvcc/records.js';
import type { MvccTxn } from '../mvcc/txn.js';
import type { Gc, TxnResult } from './types.js';
import { OK } from './types.js';

export async function gc(txn: MvccTxn, cmd: Gc, range: { start: Uint8Array; end: Uint8Array }): Promise<TxnResult> {
  for (const [key, meta] of await metasIn(txn, range)) {
    for (const [ts, rec] of await garbageOf(txn, key, cmd.safePoint)) {
      txn.deleteWrite(key, ts);
      if (rec.kind === 'put' && rec.value === undefined) txn.deleteData(key, rec.startTs);
    }
    if (forgetsLatest(meta, cmd.safePoint)) txn.setMeta(key, { ...meta, latest: undefined });
  }
  return OK;
}

/**
 * Whether gc at `safePoint` would change anything in the range. A round
 * applies on every replica within one loop turn, so the leader asks first
 * (reading its own state, off the loop) and proposes only rounds with work:
 * most find none, the safe point trailing every write by minutes.
 */
export async function hasGarbage(txn: MvccTxn, safePoint: Timestamp, range: { start: Uint8Array; end: Uint8Array }): Promise<boolean> {
  for (const [key, meta] of await metasIn(txn, range)) {
    if (forgetsLatest(meta, safePoint) || (await garbageOf(txn, key, safePoint)).length > 0) return true;
  }
  return false;
}

async function metasIn(txn: MvccTxn, range: { start: Uint8Array; end: Uint8Array }): Promise<[Uint8Array, KeyMeta][]> {
  const { gte, lt } = keys.metaBounds(range.start, range.end);
  const metas: [Uint8Array, KeyMeta][] = [];
  for await (const [k, v] of txn.view.range(gte, lt)) metas.push([keys.userKeyOfMeta(k), decodeMeta(v)]);
  return metas;
}

/** The write records of `key` that no reader at or above safePoint sees: all at or below it but the visible put. */
async function garbageOf(txn: MvccTxn, key: Uint8Array, safePoint: Timestamp): Promise<[Timestamp, WriteRecord][]> {
  const out: [Timestamp, WriteRecord][] = [];
  let keptVisible = false;
  for await (const [ts, rec] of txn.writesBetween(key, safePoint, 0n)) {
    if (!keptVisible && rec.kind !== 'rollback') {
      keptVisible = true;
      if (rec.kind === 'put') continue;
    }
    out.push([ts, rec]);
  }
  return out;
}

/** A delete at or below the safe point leaves the key without a newest version. */
const forgetsLatest = (meta: KeyMeta, safePoint: Timestamp): boolean => meta.latest?.kind === 'delete' && meta.latest.commitTs <= safePoint;
