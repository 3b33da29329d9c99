/**
 * store — the multi-Raft host: range replicas over one engine and one event
 * loop (group commit across ranges), Raft traffic over batched streams of the
 * StoreNetwork it is given, range-level KV requests with routing errors as
 * data, and the store's link to the placement driver.
 */
export { Store } from './store.js';
export type { StoreConfig, StoreDeps } from './store.js';
export { handleKv } from './kv-service.js';
export { leaderStats } from './range-admin.js';
export { StoreHeartbeat } from './pd-heartbeat.js';
export { storePdRangeHost } from './pd-range-host.js';
