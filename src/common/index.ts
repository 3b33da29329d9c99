/**
 * common — vocabulary shared by every layer: ids, the assert helper and the
 * base operational error. It imports nothing and does no I/O.
 */
export { assert, assertNever, AssertionFailed } from './assert.js';
export { BadRequestError, DbError, EpochNotMatchError, errorCodeOf, KeyNotInRangeError, RangeNotFoundError, isRetryable, NotFoundError, NotLeaderError, OutcomeUnknownError, UnavailableError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { composeTimestamp, logicalOf, physicalOf, TIMESTAMP_LOGICAL_BITS } from './timestamp.js';
export type { Timestamp } from './timestamp.js';
export type { NodeId, Term, LogIndex } from './ids.js';
export type { Rng } from './rng.js';
export { ByteReader, ByteWriter, latin1Of, putU64 } from './bytes.js';
export type { RangeDescriptor, RangeEpoch, RangeId, ReplicaDescriptor, ReplicaId, StoreId } from './range.js';
