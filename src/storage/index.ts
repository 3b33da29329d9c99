/**
 * storage — everything on disk. Owns the keyspace (keys.ts: every key of a
 * store is built there), checksummed value encodings and corruption
 * detection, the engine over classic-level and its in-memory twin, the write
 * batch that lets many Raft groups share one fsync, and the durable Raft log
 * of one group behind the core's synchronous RaftStorage interface.
 *
 * Must not: decide WHEN to write or sync (the host does, per the Ready
 * contract), interpret snapshot data or user values, know about the network
 * or routing, read clocks or draw randomness. A corrupt value is reported as
 * StorageCorruption, never repaired or skipped here.
 */
export * as keys from './keys.js';
export type { KeyBounds } from './keys.js';
export { StorageCorruption } from './errors.js';
export { decodeApplyState, encodeApplyState } from './codec.js';
export { LevelEngine, MemoryEngine } from './engine.js';
export type { BatchOp, Engine } from './engine.js';
export { WriteBatch } from './write-batch.js';
export { DurableRaftStorage, INITIAL_LOG_INDEX } from './raft-log-store.js';
export type { LogWrites } from './raft-log-store.js';
