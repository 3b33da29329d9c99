/**
 * store — the multi-Raft host: range replicas over one engine and one event
 * loop (group commit across ranges), Raft traffic over batched streams of the
 * StoreNetwork it is given, range-level KV requests with routing errors as
 * data, the MVCC state machine its replicas apply (mvcc-range.ts, over
 * src/txn), and the store's link to the placement driver.
 */
export { Store } from './store.js';
export type { StoreConfig, StoreDeps } from './store.js';
export { handleKv } from './kv-service.js';
export { leaderStats } from './range-admin.js';
export { StoreHeartbeat } from './pd-heartbeat.js';
export { storePdRangeHost } from './pd-range-host.js';
/** The MVCC state machine of a range and its Ready-loop turn, for another host of production's replicas (the simulator). */
export { MvccRange } from './mvcc-range.js';
export type { StoreReplica } from './mvcc-range.js';
export { MvccTurn } from './mvcc-turn.js';
export { TimestampSync } from './ts-sync.js';
