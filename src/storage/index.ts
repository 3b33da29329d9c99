/**
 * storage — everything on disk: the keyspace (keys.ts), value encodings with
 * checksums, the engine over classic-level and its in-memory twin, and the
 * durable Raft log. Owns fsync and corruption detection; knows nothing of the
 * network, ranges' routing or the Raft protocol beyond its data types.
 */
export * as keys from './keys.js';
export { StorageCorruption, decodeApplyState, encodeApplyState } from './codec.js';
export { LevelEngine, MemoryEngine } from './engine.js';
export type { BatchOp, Engine } from './engine.js';
export { WriteBatch } from './write-batch.js';
export { DurableRaftStorage } from './raft-log-store.js';
