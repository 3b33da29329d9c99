/**
 * The status of a transaction, read from its primary key (TiKV's
 * check_txn_status): committed at a timestamp, rolled back, or alive for
 * some TTL. A lock past its TTL is rolled back here, and a primary with
 * neither a lock nor a record gets a rollback record, so a prewrite that
 * arrives later cannot bring the transaction back. A heartbeat extends the
 * TTL of a live primary lock.
 */
import { physicalOf } from '../../common/index.js';
import type { MvccTxn } from '../mvcc/txn.js';
import { outcomeOn } from '../mvcc/reader.js';
import type { CheckTxnStatus, Heartbeat, TxnResult } from './types.js';
import { rollbackKey } from './resolve.js';

export async function checkTxnStatus(txn: MvccTxn, cmd: CheckTxnStatus): Promise<TxnResult> {
  const meta = await txn.meta(cmd.primary);
  const lock = meta?.lock?.startTs === cmd.startTs ? meta.lock : undefined;
  if (lock) {
    const expiresAt = physicalOf(lock.startTs) + lock.ttlMs;
    if (physicalOf(cmd.currentTs) < expiresAt) return { kind: 'alive', ttlMs: lock.ttlMs };
    await rollbackKey(txn, cmd.primary, meta, cmd.startTs);
    return { kind: 'rolledBack' };
  }
  const outcome = await outcomeOn(txn, cmd.primary, meta, cmd.startTs);
  if (outcome) return outcome;
  await rollbackKey(txn, cmd.primary, meta, cmd.startTs);
  return { kind: 'rolledBack' };
}

export async function heartbeat(txn: MvccTxn, cmd: Heartbeat): Promise<TxnResult> {
  const meta = await txn.meta(cmd.primary);
  const lock = meta?.lock?.startTs === cmd.startTs ? meta.lock : undefined;
  if (!lock) return (await outcomeOn(txn, cmd.primary, meta, cmd.startTs)) ?? { kind: 'rolledBack' };
  const ttlMs = Math.max(lock.ttlMs, cmd.ttlMs);
  txn.setMeta(cmd.primary, { ...meta!, lock: { ...lock, ttlMs } });
  return { kind: 'alive', ttlMs };
}
