/** Ordering properties of the keyspace, against Buffer.compare as the naive model. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyStateKey,
  dataBounds,
  dataKey,
  decodeUserKey,
  decodeVersionedKey,
  dedupBounds,
  dedupKey,
  dedupGenerationKey,
  describeKey,
  encodeUserKey,
  metaKey,
  raftGroupBounds,
  raftHardStateKey,
  raftLogBounds,
  raftLogIndex,
  raftLogKey,
  rangeDescriptorKey,
  snapshotMetaKey,
  writeKey,
  DATA_PREFIX,
} from './keys.js';

/** FC_SEED=<n> replays a failing run (fast-check prints the seed on failure). */
const params = { seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined, numRuns: 2000 };

const cmp = (a: Uint8Array, b: Uint8Array): number => Math.sign(Buffer.compare(a, b));

/** User keys rich in the bytes an escape encoding gets wrong: 0x00, 0x01, 0xfe, 0xff. */
const userKey = fc
  .array(fc.oneof(fc.constantFrom(0x00, 0x01, 0xfe, 0xff), fc.integer({ min: 0, max: 255 })), { maxLength: 10 })
  .map((a) => Uint8Array.from(a));
/** A key and an extension of it, so prefixes are common rather than rare. */
const keyPair = fc.oneof(
  fc.tuple(userKey, userKey),
  fc.tuple(userKey, userKey).map(([a, tail]): [Uint8Array, Uint8Array] => [a, Buffer.concat([a, tail])]),
);
const ts = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const group = fc.integer({ min: 0, max: 2 ** 53 - 2 });
const index = fc.integer({ min: 0, max: 2 ** 53 - 1 });

describe('user keys (memcomparable)', () => {
  it('encoded keys sort like the raw bytes, prefixes and 0x00/0xff included, and decode back', () => {
    fc.assert(
      fc.property(keyPair, ([a, b]) => {
        expect(cmp(encodeUserKey(a, DATA_PREFIX).buf, encodeUserKey(b, DATA_PREFIX).buf)).toBe(cmp(a, b));
        expect(decodeUserKey(encodeUserKey(a, DATA_PREFIX).buf)).toEqual({ key: a, end: encodeUserKey(a, DATA_PREFIX).buf.length });
      }),
      params,
    );
  });

  it('newer versions of a key sort first, and every version of a key before any version of a greater key', () => {
    fc.assert(
      fc.property(keyPair, ts, ts, ([a, b], t1, t2) => {
        if (t1 !== t2) expect(cmp(dataKey(a, t1), dataKey(a, t2))).toBe(t1 > t2 ? -1 : 1);
        if (cmp(a, b) !== 0) expect(cmp(dataKey(a, t1), dataKey(b, t2))).toBe(cmp(a, b));
        if (cmp(a, b) !== 0) expect(cmp(writeKey(a, t1), writeKey(b, t2))).toBe(cmp(a, b));
        expect(cmp(metaKey(a), metaKey(b))).toBe(cmp(a, b));
        expect(decodeVersionedKey(dataKey(a, t1))).toEqual({ userKey: a, ts: t1 });
        expect(decodeVersionedKey(writeKey(a, t1))).toEqual({ userKey: a, ts: t1 });
      }),
      params,
    );
  });

  it('dataBounds(start, end) holds exactly the versions of user keys in [start, end)', () => {
    fc.assert(
      fc.property(userKey, userKey, keyPair, ts, (start, end, [, k], t) => {
        const { gte, lt } = dataBounds(start, end);
        const key = dataKey(k, t);
        const inside = cmp(key, gte) >= 0 && cmp(key, lt) < 0;
        expect(inside).toBe(cmp(k, start) >= 0 && (end.length === 0 || cmp(k, end) < 0));
      }),
      params,
    );
  });

  it('malformed data keys are corruption, not garbage', () => {
    const good = dataKey(Uint8Array.of(1, 0, 2), 7n);
    const bad = [good.subarray(0, 5), good.subarray(0, good.length - 1), Uint8Array.of(DATA_PREFIX, 0x00, 0x07, 0, 0, 0, 0, 0, 0, 0, 0), raftHardStateKey(1)];
    for (const k of bad) expect(() => decodeVersionedKey(k)).toThrow(expect.objectContaining({ code: 'STORAGE_CORRUPTION' }));
  });
});

describe('per-group keys', () => {
  /** Every kind of key group g owns under the Raft prefix. */
  const keysOf = (g: number, i: number, rid: Uint8Array) => [raftHardStateKey(g), raftLogKey(g, i), snapshotMetaKey(g), applyStateKey(g), rangeDescriptorKey(g), dedupKey(g, 0, rid)];

  it("one group's keys are contiguous: all inside its bounds, all below every key of a higher group", () => {
    fc.assert(
      fc.property(group, group, index, index, userKey, (g1, g2, i, j, rid) => {
        const { gte, lt } = raftGroupBounds(g1);
        for (const k of keysOf(g1, i, rid)) {
          expect(cmp(k, gte)).toBeGreaterThanOrEqual(0);
          expect(cmp(k, lt)).toBe(-1);
          if (g1 !== g2) for (const other of keysOf(g2, j, rid)) expect(cmp(k, other)).toBe(g1 < g2 ? -1 : 1);
        }
      }),
      { ...params, numRuns: 500 },
    );
  });

  it('log keys sort by index, stay inside the log bounds and give their index back', () => {
    fc.assert(
      fc.property(group, index, index, (g, i, j) => {
        expect(cmp(raftLogKey(g, i), raftLogKey(g, j))).toBe(Math.sign(i - j));
        expect(raftLogIndex(raftLogKey(g, i))).toBe(i);
        const from = Math.min(i, j);
        const { gte, lt } = raftLogBounds(g, from);
        expect(cmp(raftLogKey(g, Math.max(i, j)), gte)).toBeGreaterThanOrEqual(0);
        expect(cmp(raftLogKey(g, Math.max(i, j)), lt)).toBe(-1);
        for (const k of [raftHardStateKey(g), snapshotMetaKey(g), applyStateKey(g)]) expect(cmp(k, gte) < 0 || cmp(k, lt) >= 0).toBe(true);
      }),
      params,
    );
  });

  it('dedupBounds holds every write result of the group and nothing else it owns', () => {
    const { gte, lt } = dedupBounds(3);
    const inside = (k: Uint8Array) => cmp(k, gte) >= 0 && cmp(k, lt) < 0;
    expect(inside(dedupKey(3, 0, new Uint8Array(0)))).toBe(true);
    expect(inside(dedupKey(3, 7, Uint8Array.of(0xff, 0xff)))).toBe(true);
    expect(inside(dedupGenerationKey(3))).toBe(true);
    for (const k of [raftHardStateKey(3), raftLogKey(3, 9), applyStateKey(3), rangeDescriptorKey(3), dedupKey(4, 0, Uint8Array.of(1))]) expect(inside(k)).toBe(false);
  });

  it('describes keys in words for error messages', () => {
    expect(describeKey(raftLogKey(9, 2))).toBe('log entry 2 of group 9');
    expect(describeKey(raftHardStateKey(300))).toBe('hard state of group 300');
    expect(describeKey(snapshotMetaKey(1))).toBe('snapshot metadata of group 1');
    expect(describeKey(dataKey(Uint8Array.of(0xab), 0n))).toMatch(/^data key 02ab0001/);
    expect(() => raftLogIndex(raftHardStateKey(1))).toThrow(/not a log entry key/);
  });
});
