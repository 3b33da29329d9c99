/**
 * Errors as data on the wire (proto `ErrorStatus`), and the routing errors
 * whose payload is a range descriptor. A DbError leaves a process as its code
 * and payload fields and comes back as the same subclass; an error that is not
 * a DbError travels as INTERNAL; a broken invariant never travels: the process
 * that hit it stops (see `failOrCrash`).
 */
import { AssertionFailed, DbError, EpochNotMatchError, errorCodeOf, KeyNotInRangeError, NotLeaderError, RangeNotFoundError } from '../common/index.js';
import type { ErrorCode } from '../common/index.js';
import type { RangeDescriptor } from '../common/index.js';

/** The proto `ErrorStatus`: code "" means no error. */
export interface WireErrorStatus {
  code: string;
  message: string;
  leaderStore: number;
  ranges: RangeDescriptor[];
}

export function toWireError(err: DbError): WireErrorStatus {
  return {
    code: err.code,
    message: err.message,
    leaderStore: err instanceof NotLeaderError ? err.leaderStore : 0,
    ranges: err instanceof EpochNotMatchError || err instanceof KeyNotInRangeError ? [...err.ranges] : [],
  };
}

/** The typed error a status names, or undefined when it names none. */
export function fromWireError(status: WireErrorStatus | null | undefined): DbError | undefined {
  if (!status || status.code === '') return undefined;
  const code: ErrorCode = errorCodeOf(status.code);
  switch (code) {
    case 'NOT_LEADER':
      return new NotLeaderError(status.leaderStore, status.message);
    case 'EPOCH_NOT_MATCH':
      return new EpochNotMatchError(status.message, status.ranges);
    case 'KEY_NOT_IN_RANGE':
      return new KeyNotInRangeError(status.message, status.ranges);
    case 'RANGE_NOT_FOUND':
      return new RangeNotFoundError(status.message);
    default:
      return new DbError(code, status.message);
  }
}

/**
 * What a server handler answers for a failure: DbErrors as data; anything
 * else that is not a broken invariant as INTERNAL (logged by the caller). A
 * broken invariant is rethrown outside the promise chain so that it stops the
 * process, as an assert anywhere else does.
 */
export function failOrCrash(err: unknown): WireErrorStatus {
  if (err instanceof AssertionFailed) crash(err);
  if (err instanceof DbError) return toWireError(err);
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err), leaderStore: 0, ranges: [] };
}

function crash(err: AssertionFailed): never {
  process.nextTick(() => {
    throw err;
  });
  throw err;
}
