/** Rollback: the coordinator gives up (a conflict, a failed prewrite), or a resolver decides for a dead one. */
import type { MvccTxn } from '../mvcc/txn.js';
import type { Rollback, TxnResult } from './types.js';
import { OK } from './types.js';
import { rollbackKey } from './resolve.js';

export async function rollback(txn: MvccTxn, cmd: Rollback): Promise<TxnResult> {
  for (const key of cmd.keys) {
    const res = await rollbackKey(txn, key, await txn.meta(key), cmd.startTs);
    // Committed keys are left alone; the first one decides the answer (the caller learns it cannot roll back).
    if (res.kind === 'committed') return res;
  }
  return OK;
}
