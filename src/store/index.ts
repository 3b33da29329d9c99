/**
 * store — the multi-Raft host: range replicas over one LevelDB and one event
 * loop (group commit across ranges), Raft traffic over batched gRPC streams,
 * range-level KV requests with routing errors as data.
 */
export { Store } from './store.js';
export type { StoreConfig, StoreDeps } from './store.js';
export { handleKv } from './kv-service.js';
export { leaderStats } from './range-admin.js';
