/**
 * Commit (Percolator §2.2, second phase): turn the transaction's locks into
 * versions at commitTs. A key whose lock is gone is fine when its commit
 * record is there (a retry); with neither, someone rolled the transaction
 * back, and the commit fails: the commit of the primary is the point of no
 * return, so this answer decides the whole transaction.
 */
import type { KeyMeta } from '../mvcc/records.js';
import type { MvccTxn } from '../mvcc/txn.js';
import type { Commit, TxnResult } from './types.js';
import { committedAt } from './types.js';
import { commitLock } from './resolve.js';

export async function commit(txn: MvccTxn, cmd: Commit): Promise<TxnResult> {
  // Every key is checked before any is committed: one rolled back means the whole transaction was, and no key of it may commit.
  const locked: [Uint8Array, KeyMeta][] = [];
  for (const key of cmd.keys) {
    const meta = await txn.meta(key);
    if (meta?.lock?.startTs === cmd.startTs) {
      locked.push([key, meta]);
      continue;
    }
    const rec = await txn.write(key, cmd.commitTs);
    if (rec?.startTs !== cmd.startTs || rec.kind === 'rollback') return { kind: 'rolledBack' };
  }
  for (const [key, meta] of locked) commitLock(txn, key, meta, cmd.commitTs);
  return committedAt(cmd.commitTs);
}
