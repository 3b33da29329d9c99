/** Writing a committed version of a key: the write record, the data of a long value, and the key's metadata. */
import type { Timestamp } from '../../common/index.js';
import type { KeyMeta, Lock, MutationKind, Version } from '../mvcc/records.js';
import { inlineValue } from '../mvcc/records.js';
import type { MvccTxn } from '../mvcc/txn.js';

/** Commits a mutation at commitTs; `lock` is left as it is in the metadata (the caller decides). */
export function putVersion(
  txn: MvccTxn,
  key: Uint8Array,
  meta: KeyMeta | undefined,
  m: { kind: MutationKind; startTs: Timestamp; value: Uint8Array | undefined; valueInData: boolean },
  commitTs: Timestamp,
  lock: Lock | undefined,
): void {
  // A long value goes to the data column once; the records point at it by startTs.
  const inline = m.kind === 'put' && m.value && !m.valueInData ? inlineValue(m.value) : undefined;
  if (m.kind === 'put' && m.value && !m.valueInData && !inline) txn.putData(key, m.startTs, m.value);
  // The metadata's copy of the newest version points at its write record, which holds the value: one
  // copy of the value per write (the write record is one exact read away; the metadata is usually cached).
  const version: Version = { commitTs, startTs: m.startTs, kind: m.kind, value: undefined };
  const newer = !meta?.latest || meta.latest.commitTs < commitTs;
  // The metadata first: it was just read, and its key is still at hand (MvccTxn, ApplyView).
  txn.setMeta(key, { maxTs: max(meta?.maxTs ?? 0n, commitTs), latest: newer ? version : meta?.latest, lock });
  txn.putWrite(key, commitTs, { kind: m.kind, startTs: m.startTs, value: inline });
}

export const max = (a: Timestamp, b: Timestamp): Timestamp => (a > b ? a : b);
