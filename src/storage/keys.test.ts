import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dataKey, decodeUserKey, decodeVersionedKey, encodeUserKey, raftGroupBounds, raftLogKey } from './keys.js';

function cmp(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

const bytes = fc.uint8Array({ maxLength: 12 }).map((a) => a.map((b) => [0, 1, 0xff, 0x61][b % 4] ?? b));

describe('keyspace', () => {
  it('memcomparable user keys sort like the raw bytes (0x00, 0xff and prefixes included)', () => {
    fc.assert(
      fc.property(bytes, bytes, (a, b) => {
        expect(Math.sign(cmp(encodeUserKey(a, 2).buf, encodeUserKey(b, 2).buf))).toBe(Math.sign(cmp(a, b)));
        expect(decodeUserKey(encodeUserKey(a, 2).buf).key).toEqual(a);
      }),
      { numRuns: 2000 },
    );
  });

  it('the newer version of a key sorts first, and all versions of a key before the next key', () => {
    fc.assert(
      fc.property(bytes, bytes, fc.bigInt({ min: 0n, max: 2n ** 63n }), fc.bigInt({ min: 0n, max: 2n ** 63n }), (a, b, t1, t2) => {
        if (t1 !== t2) expect(Math.sign(cmp(dataKey(a, t1), dataKey(a, t2)))).toBe(t1 > t2 ? -1 : 1);
        if (cmp(a, b) < 0) expect(cmp(dataKey(a, t1), dataKey(b, t2))).toBeLessThan(0);
        expect(decodeVersionedKey(dataKey(a, t1))).toEqual({ userKey: a, ts: t1 });
      }),
      { numRuns: 2000 },
    );
  });

  it("one group's log keys sort by index and stay inside the group's bounds", () => {
    const { gte, lt } = raftGroupBounds(5);
    for (const i of [0, 1, 255, 256, 2 ** 40]) {
      expect(cmp(raftLogKey(5, i), gte)).toBeGreaterThanOrEqual(0);
      expect(cmp(raftLogKey(5, i), lt)).toBeLessThan(0);
      expect(cmp(raftLogKey(5, i), raftLogKey(5, i + 1))).toBeLessThan(0);
    }
    expect(cmp(raftLogKey(4, 2 ** 40), gte)).toBeLessThan(0);
    expect(cmp(raftLogKey(6, 0), lt)).toBeGreaterThanOrEqual(0);
  });
});
