/**
 * Reading a key's history: the version visible at a timestamp, a version's
 * value, and how a given transaction ended on the key.
 */
import type { Timestamp } from '../../common/index.js';
import { StorageCorruption } from '../../storage/index.js';
import type { KeyMeta, MutationKind } from './records.js';
import type { MvccTxn } from './txn.js';

export interface VisibleVersion {
  readonly commitTs: Timestamp;
  readonly startTs: Timestamp;
  readonly kind: MutationKind;
  readonly value: Uint8Array | undefined;
}

/**
 * The newest put or delete of `key` committed at or below `ts`: the
 * metadata's copy when it qualifies, with the value from its write record
 * (older records kept the value in the copy itself).
 */
export async function versionAt(txn: MvccTxn, key: Uint8Array, meta: KeyMeta | undefined, ts: Timestamp): Promise<VisibleVersion | undefined> {
  if (!meta) return undefined;
  const { latest } = meta;
  if (latest && latest.commitTs <= ts) {
    if (latest.kind === 'delete' || latest.value) return latest;
    const rec = await txn.write(key, latest.commitTs);
    if (!rec) throw new StorageCorruption('mvcc write', key, `the write record at ${latest.commitTs} named by the metadata is missing`);
    return { ...latest, value: rec.value };
  }
  for await (const [commitTs, rec] of txn.writesBetween(key, ts, 0n)) {
    if (rec.kind !== 'rollback') return { commitTs, startTs: rec.startTs, kind: rec.kind, value: rec.value };
  }
  return undefined;
}

/** The value a put wrote (inline, or from the data column); undefined for a delete. */
export async function valueOf(txn: MvccTxn, key: Uint8Array, v: { kind: MutationKind; startTs: Timestamp; value: Uint8Array | undefined }): Promise<Uint8Array | undefined> {
  if (v.kind === 'delete') return undefined;
  if (v.value) return v.value;
  const long = await txn.data(key, v.startTs);
  if (!long) throw new StorageCorruption('mvcc data', key, `the value written at ${v.startTs} is missing`);
  return long;
}

/** The current value of `key` at `ts` (undefined: absent or deleted). */
export async function valueAt(txn: MvccTxn, key: Uint8Array, meta: KeyMeta | undefined, ts: Timestamp): Promise<Uint8Array | undefined> {
  const v = await versionAt(txn, key, meta, ts);
  return v ? valueOf(txn, key, v) : undefined;
}

export type Outcome = { readonly kind: 'committed'; readonly commitTs: Timestamp } | { readonly kind: 'rolledBack' };

/** How the transaction that started at `startTs` ended on `key`, if a record says so. */
export async function outcomeOn(txn: MvccTxn, key: Uint8Array, meta: KeyMeta | undefined, startTs: Timestamp): Promise<Outcome | undefined> {
  if (meta?.latest?.startTs === startTs) return { kind: 'committed', commitTs: meta.latest.commitTs };
  if (!meta || meta.maxTs < startTs) return undefined;
  // Its records sit at or above its start: a rollback at startTs, a commit above it.
  for await (const [ts, rec] of txn.writesBetween(key, meta.maxTs, startTs)) {
    if (rec.startTs !== startTs) continue;
    return rec.kind === 'rollback' ? { kind: 'rolledBack' } : { kind: 'committed', commitTs: ts };
  }
  return undefined;
}
