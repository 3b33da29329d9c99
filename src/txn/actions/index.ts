export type { CheckTxnStatus, Commit, Gc, Heartbeat, KeyLock, KvWrite, Mutation, Prewrite, ResolveLock, Rollback, TxnCommand, TxnResult } from './types.js';
export { OK } from './types.js';
export { applyTxnCommand } from './apply.js';
export { hasGarbage } from './gc.js';
export { get, LATEST, scan } from './read.js';
export type { GetResult, ScanResult } from './read.js';
