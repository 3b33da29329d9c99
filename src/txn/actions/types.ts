/**
 * The transactional commands a range applies through its Raft log, and their
 * results. Every action is deterministic, and idempotent by start timestamp:
 * applied twice it answers the same (TiKV src/storage/txn/actions).
 */
import type { Timestamp } from '../../common/index.js';
import type { Lock, MutationKind } from '../mvcc/records.js';

export interface KeyLock extends Lock {
  readonly key: Uint8Array;
}

/** A `/kv` write: one key, committed in one step at a timestamp above `ts` and above every read served at or below `floor`. */
export interface KvWrite {
  readonly kind: 'kvWrite';
  readonly op: 'put' | 'delete' | 'cas';
  readonly key: Uint8Array;
  /** put: the value; cas: the new value, or undefined to delete. */
  readonly value: Uint8Array | undefined;
  /** cas: the expected current value, or undefined for "absent". */
  readonly expect: Uint8Array | undefined;
  /** A fresh timestamp from the TSO, taken by the gateway for this write; 0 without a TSO (see kv-write.ts). */
  readonly ts: Timestamp;
  /** The leader's highest read timestamp when it proposed the write. */
  readonly floor: Timestamp;
}

export interface Mutation {
  readonly kind: MutationKind;
  readonly key: Uint8Array;
  readonly value: Uint8Array | undefined;
}

/** Percolator's prewrite of the mutations that fall in one range; with `onePc`, the commit too, in the same entry. */
export interface Prewrite {
  readonly kind: 'prewrite';
  readonly startTs: Timestamp;
  readonly primary: Uint8Array;
  readonly ttlMs: number;
  readonly mutations: readonly Mutation[];
  readonly onePc: boolean;
  /** One-phase commit only: the leader's highest read timestamp when it proposed. */
  readonly floor: Timestamp;
}

export interface Commit {
  readonly kind: 'commit';
  readonly startTs: Timestamp;
  readonly commitTs: Timestamp;
  readonly keys: readonly Uint8Array[];
}

export interface Rollback {
  readonly kind: 'rollback';
  readonly startTs: Timestamp;
  readonly keys: readonly Uint8Array[];
}

/** Asked of the primary key: how did the transaction end, or is it alive? An expired lock is rolled back. */
export interface CheckTxnStatus {
  readonly kind: 'checkTxnStatus';
  readonly primary: Uint8Array;
  readonly startTs: Timestamp;
  /** Now, for deciding expiry (the physical part is compared with the lock's start plus its TTL). */
  readonly currentTs: Timestamp;
}

/** The coordinator of a long transaction extends its primary lock's TTL. */
export interface Heartbeat {
  readonly kind: 'heartbeat';
  readonly primary: Uint8Array;
  readonly startTs: Timestamp;
  readonly ttlMs: number;
}

/** Commits (commitTs > 0) or rolls back (commitTs = 0) the transaction's locks on `keys`, or on every key of the range when `keys` is empty. */
export interface ResolveLock {
  readonly kind: 'resolveLock';
  readonly startTs: Timestamp;
  readonly commitTs: Timestamp;
  readonly keys: readonly Uint8Array[];
}

/** Drops what no reader at or above `safePoint` can see (see gc.ts). */
export interface Gc {
  readonly kind: 'gc';
  readonly safePoint: Timestamp;
}

export type TxnCommand = KvWrite | Prewrite | Commit | Rollback | CheckTxnStatus | Heartbeat | ResolveLock | Gc;

export type TxnResult =
  /** Applied. kvWrite: whether a delete found the key, and a cas's current value; prewrite with onePc: the commit timestamp. */
  | { readonly kind: 'ok'; readonly deleted: boolean; readonly current: Uint8Array | undefined; readonly commitTs: Timestamp }
  /** A cas whose expectation failed: nothing applied. */
  | { readonly kind: 'casFailed'; readonly current: Uint8Array | undefined }
  /** Another transaction holds locks on these keys: nothing applied. */
  | { readonly kind: 'locked'; readonly locks: readonly KeyLock[] }
  /** A newer write (or this transaction's own rollback) at conflictTs: nothing applied. */
  | { readonly kind: 'conflict'; readonly key: Uint8Array; readonly conflictTs: Timestamp }
  /** A kvWrite whose timestamp is not above the key's newest record: nothing applied; retry with a fresh one. */
  | { readonly kind: 'tsTooOld'; readonly maxTs: Timestamp }
  /** commit: the lock is gone and no commit record exists, so the transaction was rolled back. */
  | { readonly kind: 'rolledBack' }
  /** rollback, checkTxnStatus, heartbeat: the transaction committed. */
  | { readonly kind: 'committed'; readonly commitTs: Timestamp }
  /** checkTxnStatus, heartbeat: the primary lock is there and has not expired. */
  | { readonly kind: 'alive'; readonly ttlMs: number };

export const OK: TxnResult = { kind: 'ok', deleted: false, current: undefined, commitTs: 0n };

/** Applied, committing at commitTs. */
export const committedAt = (commitTs: bigint): TxnResult => ({ kind: 'ok', deleted: false, current: undefined, commitTs });
