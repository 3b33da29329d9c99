/** Rollback: the coordinator gives up (a conflict, a failed prewrite), or a resolver decides for a dead one. */
import type { KeyMeta } from '../mvcc/records.js';
import type { MvccTxn } from '../mvcc/txn.js';
import { outcomeOn } from '../mvcc/reader.js';
import type { Rollback, TxnResult } from './types.js';
import { OK } from './types.js';
import { rollbackKey } from './resolve.js';

export async function rollback(txn: MvccTxn, cmd: Rollback): Promise<TxnResult> {
  // A committed key means the transaction committed: then no key is rolled back (its other locks await roll-forward), and the
  // first such key decides the answer (the caller learns it cannot roll back). So every key is checked before any changes.
  const metas: (KeyMeta | undefined)[] = [];
  for (const key of cmd.keys) {
    const meta = await txn.meta(key);
    const outcome = meta?.lock?.startTs === cmd.startTs ? undefined : await outcomeOn(txn, key, meta, cmd.startTs);
    if (outcome?.kind === 'committed') return outcome;
    metas.push(meta);
  }
  for (const [i, key] of cmd.keys.entries()) await rollbackKey(txn, key, metas[i], cmd.startTs);
  return OK;
}
