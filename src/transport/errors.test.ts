import { describe, expect, it } from 'vitest';
import { AssertionFailed, DbError, EpochNotMatchError, KeyNotInRangeError, NotLeaderError, OutcomeUnknownError, RangeNotFoundError, UnavailableError } from '../common/index.js';
import { failOrCrash, fromWireError, toWireError } from './errors.js';
import type { RangeDescriptor } from '../common/index.js';

const range: RangeDescriptor = { id: 7, start: Buffer.from('a'), end: Buffer.from('m'), epoch: { version: 3, confVer: 2 }, replicas: [{ store: 1, replicaId: 65537, role: 'voter' }] };

describe('errors as data on the wire', () => {
  it.each([
    [new NotLeaderError(3, 'store 1 does not lead'), NotLeaderError, { leaderStore: 3 }],
    [new EpochNotMatchError('stale', [range]), EpochNotMatchError, { ranges: [range] }],
    [new KeyNotInRangeError('outside', [range]), KeyNotInRangeError, { ranges: [range] }],
    [new RangeNotFoundError('gone'), RangeNotFoundError, {}],
    [new UnavailableError('no quorum'), DbError, { code: 'UNAVAILABLE' }],
    [new OutcomeUnknownError('sent'), DbError, { code: 'OUTCOME_UNKNOWN' }],
  ] as const)('%s comes back as the same class with its code, message and payload', (err, cls, payload) => {
    const back = fromWireError(toWireError(err))!;
    expect(back).toBeInstanceOf(cls);
    expect(back).toMatchObject({ code: err.code, message: err.message, ...payload });
  });

  it('no status, or an empty code, is no error', () => {
    expect(fromWireError(null)).toBeUndefined();
    expect(fromWireError({ code: '', message: '', leaderStore: 0, ranges: [] })).toBeUndefined();
  });

  it('a code this build does not know arrives as INTERNAL, not as a guess', () => {
    expect(fromWireError({ code: 'FROM_THE_FUTURE', message: 'x', leaderStore: 0, ranges: [] })).toMatchObject({ code: 'INTERNAL' });
  });

  it('a plain Error travels as INTERNAL; a broken invariant does not travel (it stops the process)', () => {
    expect(failOrCrash(new TypeError('oops'))).toMatchObject({ code: 'INTERNAL', message: 'oops' });
    const listeners = process.listeners('uncaughtException');
    let crashed: unknown;
    process.removeAllListeners('uncaughtException');
    process.once('uncaughtException', (e) => (crashed = e));
    try {
      expect(() => failOrCrash(new AssertionFailed('broken'))).toThrow(AssertionFailed);
    } finally {
      return new Promise<void>((resolve) =>
        process.nextTick(() => {
          for (const l of listeners) process.on('uncaughtException', l);
          expect(crashed).toBeInstanceOf(AssertionFailed);
          resolve();
        }),
      );
    }
  });
});
