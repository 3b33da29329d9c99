/**
 * replica — what every host of range replicas shares (store and placement
 * driver): range descriptors (bounds, epoch, replica ids), the `Replica` (one
 * RawNode over a durable Raft log, its proposals, reads and apply into the
 * engine with exactly-once records), and the command codec of its log.
 */
export { containsKey, decodeDescriptor, encodeDescriptor, evenSplits, rangesFromSplits, replicaIdFor, sameEpoch, storeOfReplica, withMembership } from './range-descriptor.js';
export { decodeGeneration, PLAIN_TS, Replica } from './replica.js';
export type { ApplyHost, Waiter, WriteWaiter } from './replica.js';
export type { SplitCommand, WriteCommand, WriteOp, WriteResult } from './command.js';
export { SessionTable } from './sessions.js';
export type { Session, SessionCheck } from './sessions.js';
