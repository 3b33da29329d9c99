/**
 * txn — Percolator transactions over the ranges (Percolator §2.2; TiKV's
 * storage/txn and client-go's txnkv). mvcc/ holds a key's records (versions,
 * locks, write records) and reads them; actions/ are the commands a range
 * applies through its log (prewrite, commit, rollback, check status, resolve
 * lock, GC, and the single-key `/kv` write) and the reads at a timestamp;
 * client/ is the coordinator (two-phase commit, lock resolution) that the
 * gateway and SQL use through KvTxn.
 *
 * Must not: choose timestamps (the TSO does), route requests (the client is
 * given a sender), or touch the engine except through an MvccView.
 */
export * from './actions/index.js';
export { MvccTxn, READ_ONLY } from './mvcc/txn.js';
export type { MvccSink, MvccView } from './mvcc/txn.js';
export type { KeyMeta, Lock, WriteRecord } from './mvcc/records.js';
export { decodeTxnCommand, decodeTxnResult, encodeTxnCommand, encodeTxnResult, readLock, readResult, writeLock, writeResult, writeTxnCommand } from './codec.js';
export * from './client/index.js';
