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
import { decodeMeta } from '../mvcc/records.js';
import type { MvccTxn } from '../mvcc/txn.js';
import type { Gc, TxnResult } from './types.js';
import { OK } from './types.js';

export async function gc(txn: MvccTxn, cmd: Gc, range: { start: Uint8Array; end: Uint8Array }): Promise<TxnResult> {
  const { gte, lt } = keys.metaBounds(range.start, range.end);
  const metas: [Uint8Array, ReturnType<typeof decodeMeta>][] = [];
  for await (const [k, v] of txn.view.range(gte, lt)) metas.push([keys.userKeyOfMeta(k), decodeMeta(v)]);
  for (const [key, meta] of metas) {
    let keptVisible = false;
    for await (const [ts, rec] of txn.writesBetween(key, cmd.safePoint, 0n)) {
      if (!keptVisible && rec.kind !== 'rollback') {
        keptVisible = true;
        if (rec.kind === 'put') continue;
      }
      txn.deleteWrite(key, ts);
      if (rec.kind === 'put' && rec.value === undefined) txn.deleteData(key, rec.startTs);
    }
    if (meta.latest?.kind === 'delete' && meta.latest.commitTs <= cmd.safePoint) txn.setMeta(key, { ...meta, latest: undefined });
  }
  return OK;
}
