/**
 * Prewrite (Percolator §2.2): lock every mutation of the transaction that
 * falls in this range, or none. A record at or above startTs is a write-write
 * conflict (a newer commit, or this transaction's own rollback: a late
 * prewrite must fail); another transaction's lock is reported for the caller
 * to resolve. A retried prewrite finds its own locks and succeeds again.
 *
 * With `onePc` (every key in this range) the mutations commit in this same
 * entry at max(startTs, floor) + 1, and no lock is left behind.
 */
import type { MvccTxn } from '../mvcc/txn.js';
import type { KeyMeta } from '../mvcc/records.js';
import { inlineValue } from '../mvcc/records.js';
import type { KeyLock, Prewrite, TxnResult } from './types.js';
import { committedAt, OK } from './types.js';
import { max, putVersion } from './version.js';

export async function prewrite(txn: MvccTxn, cmd: Prewrite): Promise<TxnResult> {
  const metas: (KeyMeta | undefined)[] = [];
  const locks: KeyLock[] = [];
  for (const m of cmd.mutations) {
    const meta = await txn.meta(m.key);
    metas.push(meta);
    if (meta?.lock && meta.lock.startTs !== cmd.startTs) locks.push({ ...meta.lock, key: m.key });
    else if (!meta?.lock && meta && meta.maxTs >= cmd.startTs) return { kind: 'conflict', key: m.key, conflictTs: meta.maxTs };
  }
  if (locks.length > 0) return { kind: 'locked', locks };
  if (cmd.onePc) {
    const commitTs = max(cmd.startTs, cmd.floor) + 1n;
    cmd.mutations.forEach((m, i) => putVersion(txn, m.key, metas[i], { kind: m.kind, startTs: cmd.startTs, value: m.value, valueInData: false }, commitTs, undefined));
    return committedAt(commitTs);
  }
  cmd.mutations.forEach((m, i) => {
    const meta = metas[i];
    if (meta?.lock) return; // ours, from an earlier attempt
    const inline = m.value ? inlineValue(m.value) : undefined;
    if (m.value && !inline) txn.putData(m.key, cmd.startTs, m.value);
    const lock = { primary: cmd.primary, startTs: cmd.startTs, ttlMs: cmd.ttlMs, kind: m.kind, value: inline };
    txn.setMeta(m.key, { maxTs: meta?.maxTs ?? 0n, latest: meta?.latest, lock });
  });
  return OK;
}
