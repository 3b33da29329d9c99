import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../raft/index.js';
import { decodeFrame, encodeFrame, WireError } from './raft-codec.js';

const b = (s: string) => new TextEncoder().encode(s);
const base = { from: 65_537, to: 131_073, term: 7 };
const samples: Message[] = [
  { kind: 'app', ...base, index: 10, logTerm: 6, commit: 9, entries: [{ term: 7, index: 11, type: 'normal', data: b('x') }, { term: 7, index: 12, type: 'conf', data: new Uint8Array(5) }] },
  { kind: 'appResp', ...base, index: 12, reject: true, rejectHint: 8, hintTerm: 5 },
  { kind: 'vote', ...base, index: 3, logTerm: 2, transfer: true },
  { kind: 'preVote', ...base, index: 3, logTerm: 2, transfer: false },
  { kind: 'voteResp', ...base, reject: false },
  { kind: 'preVoteResp', ...base, reject: true },
  { kind: 'heartbeat', ...base, commit: 4, ctx: b('r1') },
  { kind: 'heartbeatResp', ...base, ctx: new Uint8Array(0) },
  { kind: 'snap', ...base, snapshot: { meta: { index: 40, term: 6, conf: { voters: [1, 2], learners: [3] } }, data: b('image') } },
  { kind: 'timeoutNow', ...base },
  { kind: 'readIndex', ...base, ctx: b('c') },
  { kind: 'readIndexResp', ...base, index: 9, ctx: b('c') },
  { kind: 'transferLeader', ...base, target: 196_609 },
];

describe('Raft frame codec', () => {
  it('round-trips every message kind, many ranges per frame', () => {
    const items = samples.map((msg, i) => ({ rangeId: i + 1, quiesce: i % 2 === 0, msg }));
    expect(decodeFrame(encodeFrame(items))).toEqual(items);
  });

  it('every truncation of a valid frame is rejected as malformed, never trusted', () => {
    const frame = encodeFrame(samples.map((msg, i) => ({ rangeId: i, quiesce: false, msg }))).slice();
    for (let n = 0; n < frame.length; n++) expect(() => decodeFrame(frame.subarray(0, n))).toThrow(WireError);
  });

  it('random bytes and bit flips either decode to valid messages or throw WireError', () => {
    const frame = encodeFrame(samples.map((msg, i) => ({ rangeId: i, quiesce: false, msg }))).slice();
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.tuple(fc.nat(frame.length - 1), fc.nat(7)).map(([i, bit]) => {
        const f = frame.slice();
        f[i] ^= 1 << bit;
        return f;
      })), (bytes) => {
        try {
          decodeFrame(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(WireError);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
