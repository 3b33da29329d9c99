/**
 * txn — Percolator transactions over the ranges (Percolator §2.2; TiKV's
 * storage/txn and client-go's txnkv). mvcc/ holds a key's records (versions,
 * locks, write records) and reads them; actions/ are the commands a range
 * applies through its log (prewrite, commit, rollback, check status, resolve
 * lock, GC, and the single-key `/kv` write) and the reads at a timestamp.
 * The coordinator (client/: two-phase commit, lock resolution) and the
 * store's use of these actions land next (see the README's roadmap).
 *
 * Must not: choose timestamps (the TSO does), route requests, or touch the
 * engine except through an MvccView.
 */
export * from './actions/index.js';
export { MvccTxn, READ_ONLY } from './mvcc/txn.js';
export type { MvccSink, MvccView } from './mvcc/txn.js';
export type { KeyMeta, Lock, WriteRecord } from './mvcc/records.js';
export { decodeTxnCommand, decodeTxnResult, encodeTxnCommand, encodeTxnResult, readLock, readResult, writeLock, writeResult } from './codec.js';
