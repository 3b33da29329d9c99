/**
 * replica — what every host of range replicas shares (store and placement
 * driver): range descriptors (bounds, epoch, replica ids), and the
 * exactly-once session table. The multi-group Ready loop still lives in
 * store/ (see its header).
 */
export { containsKey, decodeDescriptor, encodeDescriptor, evenSplits, rangesFromSplits, replicaIdFor, sameEpoch, storeOfReplica, withMembership } from './range-descriptor.js';
export { SessionTable } from './sessions.js';
export type { Session, SessionCheck } from './sessions.js';
