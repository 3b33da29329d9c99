/**
 * Resolving one key's lock either way, shared by commit, rollback, status
 * checks and lock resolution; and the resolveLock action itself.
 */
import type { Timestamp } from '../../common/index.js';
import { keys } from '../../storage/index.js';
import type { KeyMeta } from '../mvcc/records.js';
import { decodeMeta } from '../mvcc/records.js';
import type { MvccTxn } from '../mvcc/txn.js';
import { outcomeOn } from '../mvcc/reader.js';
import type { ResolveLock, TxnResult } from './types.js';
import { OK } from './types.js';
import { max, putVersion } from './version.js';

/** The key's lock (which the caller checked is the transaction's) becomes a version at commitTs. */
export function commitLock(txn: MvccTxn, key: Uint8Array, meta: KeyMeta, commitTs: Timestamp): void {
  const lock = meta.lock!;
  putVersion(txn, key, meta, { kind: lock.kind, startTs: lock.startTs, value: lock.value, valueInData: lock.kind === 'put' && lock.value === undefined }, commitTs, undefined);
}

/**
 * Rolls the transaction that started at startTs back on `key`: drops its lock
 * and long value if there, and leaves a rollback record at startTs so that a
 * prewrite arriving late fails. When another version already sits at exactly
 * startTs (a `/kv` write's timestamp may coincide), it is kept: it also
 * makes such a prewrite fail. Returns the commit when the transaction had
 * already committed on this key (nothing is changed then).
 */
export async function rollbackKey(txn: MvccTxn, key: Uint8Array, meta: KeyMeta | undefined, startTs: Timestamp): Promise<TxnResult> {
  const ours = meta?.lock?.startTs === startTs ? meta.lock : undefined;
  if (!ours) {
    const outcome = await outcomeOn(txn, key, meta, startTs);
    if (outcome?.kind === 'committed') return outcome;
    if (outcome?.kind === 'rolledBack') return OK;
  }
  if (ours?.kind === 'put' && ours.value === undefined) txn.deleteData(key, startTs);
  if (!(await txn.write(key, startTs))) txn.putWrite(key, startTs, { kind: 'rollback', startTs, value: undefined });
  txn.setMeta(key, { maxTs: max(meta?.maxTs ?? 0n, startTs), latest: meta?.latest, lock: ours ? undefined : meta?.lock });
  return OK;
}

export async function resolveLock(txn: MvccTxn, cmd: ResolveLock, range: { start: Uint8Array; end: Uint8Array }): Promise<TxnResult> {
  for (const key of cmd.keys.length > 0 ? cmd.keys : await lockedKeys(txn, range, cmd.startTs)) {
    const meta = await txn.meta(key);
    if (meta?.lock?.startTs !== cmd.startTs) continue;
    if (cmd.commitTs > 0n) commitLock(txn, key, meta, cmd.commitTs);
    else await rollbackKey(txn, key, meta, cmd.startTs);
  }
  return OK;
}

/** The keys of the range locked by the transaction that started at startTs (a scan of the metadata column). */
async function lockedKeys(txn: MvccTxn, range: { start: Uint8Array; end: Uint8Array }, startTs: Timestamp): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const { gte, lt } = keys.metaBounds(range.start, range.end);
  for await (const [k, v] of txn.view.range(gte, lt)) if (decodeMeta(v).lock?.startTs === startTs) out.push(keys.userKeyOfMeta(k));
  return out;
}
