/**
 * replica — one host for a Raft node, shared by the store (thousands of
 * ranges, the placement driver's own group among them) and the simulator:
 * the Ready loop (ready-loop.ts, the only one in src), the `Replica` (one
 * RawNode over a durable Raft log, its proposals, reads, apply into the engine
 * with exactly-once records, snapshots, membership, leadership transfer), the
 * framing of its log, and range descriptors (bounds, epoch, replica ids).
 * What a client command does to the engine is the host's state machine
 * (state-machine.ts; the store's is MVCC).
 *
 * Must not: know where messages or snapshots travel (the host's LoopHost
 * does), know a data model (src/txn is the host's), open sockets, or decide
 * when to tick or quiesce.
 */
export { containsKey, decodeDescriptor, encodeDescriptor, evenSplits, rangesFromSplits, replicaIdFor, sameEpoch, storeOfReplica, withMembership } from './range-descriptor.js';
export { Replica } from './replica.js';
export type { ApplyHost, ReplicaTuning } from './replica.js';
export type { CommandEntry, Entry, EntryResult, SplitCommand } from './command.js';
export type { ApplyView, RangeStateMachine, Refusal } from './state-machine.js';
export { ReadyLoop } from './ready-loop.js';
export type { ApplyTurn, LoopHost, LoopMetrics, ReadyObserver } from './ready-loop.js';
export { acceptSnapshot, finishSnapshotSend, rangeStateBounds, startSnapshotSend } from './range-snapshot.js';
export { stageInitialState } from './initial-state.js';
