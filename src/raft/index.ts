/**
 * raft — the pure consensus core. Owns elections, replication, membership,
 * leadership transfer and linearizable reads of ONE group, as a deterministic
 * state machine driven through RawNode (tick / step / propose → Ready → advance).
 *
 * Must not: perform I/O, read clocks, arm timers, draw randomness other than
 * the Rng it is handed, or be async. Imports only `common`.
 */
export { RawNode } from './raw-node.js';
export type { Status } from './raw-node.js';
export type { ProposeResult } from './raft.js';
export { MemoryStorage, EMPTY_CONF, bootstrapEntries, limitSize } from './storage.js';
export type { RaftStorage, InitialState } from './storage.js';
export { applyConfChange, decodeConfChange, encodeConfChange } from './conf-change.js';
export type { ConfChange } from './conf-change.js';
export { DEFAULT_CONFIG, EMPTY_HARD_STATE, sendableBeforePersist } from './types.js';
export type {
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageKind,
  RaftConfig,
  ReadState,
  Ready,
  Role,
  Snapshot,
  SnapshotMeta,
  SoftState,
} from './types.js';
