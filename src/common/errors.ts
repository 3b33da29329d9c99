/**
 * Operational errors: expected, reported to callers, never a reason to crash
 * (a broken invariant is an `assert` instead, see assert.ts). The `code` is API
 * and travels on the wire as a field, with the payload of its subclass;
 * `message` is free text for humans. Callers switch on `code`, never on the
 * message (abstract-level's error codes, kvproto's errorpb).
 */
import type { RangeDescriptor } from './range.js';

export type ErrorCode =
  // The request itself is wrong; asking again will not help.
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'TOO_LARGE'
  | 'CONFLICT'
  // Routing: the client re-routes (hints in the payload) and asks again.
  | 'NOT_LEADER'
  | 'EPOCH_NOT_MATCH'
  | 'KEY_NOT_IN_RANGE'
  | 'RANGE_NOT_FOUND'
  // Nothing was applied, retrying is safe.
  | 'UNAVAILABLE'
  // A write was sent and its fate is unknown: it may or may not have applied.
  | 'OUTCOME_UNKNOWN'
  // Cluster membership (placement driver).
  | 'STORE_NOT_REGISTERED'
  | 'STORE_REFUSED'
  // Transactions (Percolator).
  | 'WRITE_CONFLICT'
  | 'KEY_LOCKED'
  | 'TXN_NOT_FOUND'
  // Local storage.
  | 'STORAGE_CORRUPTION'
  | 'ENGINE_CLOSED'
  | 'BAD_SNAPSHOT'
  | 'CORRUPT_COMMAND'
  | 'CORRUPT_RESULT'
  // Bytes from a peer that do not decode.
  | 'MALFORMED_MESSAGE'
  // An error that is none of the above (a bug or an I/O failure), reported as such.
  | 'INTERNAL';

const CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'BAD_REQUEST',
  'NOT_FOUND',
  'TOO_LARGE',
  'CONFLICT',
  'NOT_LEADER',
  'EPOCH_NOT_MATCH',
  'KEY_NOT_IN_RANGE',
  'RANGE_NOT_FOUND',
  'UNAVAILABLE',
  'OUTCOME_UNKNOWN',
  'STORE_NOT_REGISTERED',
  'STORE_REFUSED',
  'WRITE_CONFLICT',
  'KEY_LOCKED',
  'TXN_NOT_FOUND',
  'STORAGE_CORRUPTION',
  'ENGINE_CLOSED',
  'BAD_SNAPSHOT',
  'CORRUPT_COMMAND',
  'CORRUPT_RESULT',
  'MALFORMED_MESSAGE',
  'INTERNAL',
]);

/** A code read off the wire, or INTERNAL for one this build does not know. */
export function errorCodeOf(text: string): ErrorCode {
  return CODES.has(text) ? (text as ErrorCode) : 'INTERNAL';
}

export class DbError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DbError';
  }
}

/** The contacted replica does not lead its range; `leaderStore` is its guess (0 = none). */
export class NotLeaderError extends DbError {
  constructor(
    readonly leaderStore: number,
    message = `not leader${leaderStore ? `; try store ${leaderStore}` : ''}`,
  ) {
    super('NOT_LEADER', message);
  }
}

/** Nothing was applied, and retrying is safe. */
export class UnavailableError extends DbError {
  constructor(message: string) {
    super('UNAVAILABLE', message);
  }
}

/** A write was sent but its outcome could not be learned before the deadline. */
export class OutcomeUnknownError extends DbError {
  constructor(message: string) {
    super('OUTCOME_UNKNOWN', message);
  }
}

/** The range moved on (split or membership change): `ranges` are the descriptors to route by. */
export class EpochNotMatchError extends DbError {
  constructor(
    message: string,
    readonly ranges: readonly RangeDescriptor[],
  ) {
    super('EPOCH_NOT_MATCH', message);
  }
}

export class KeyNotInRangeError extends DbError {
  constructor(
    message: string,
    readonly ranges: readonly RangeDescriptor[],
  ) {
    super('KEY_NOT_IN_RANGE', message);
  }
}

export class RangeNotFoundError extends DbError {
  constructor(message: string) {
    super('RANGE_NOT_FOUND', message);
  }
}

export class BadRequestError extends DbError {
  constructor(message: string) {
    super('BAD_REQUEST', message);
  }
}

export class NotFoundError extends DbError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** Codes after which the same request may succeed against a fresher route or later. */
export function isRetryable(code: ErrorCode): boolean {
  switch (code) {
    case 'NOT_LEADER':
    case 'EPOCH_NOT_MATCH':
    case 'KEY_NOT_IN_RANGE':
    case 'RANGE_NOT_FOUND':
    case 'UNAVAILABLE':
    case 'OUTCOME_UNKNOWN':
      return true;
    default:
      return false;
  }
}
