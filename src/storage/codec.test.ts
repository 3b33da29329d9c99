import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../raft/index.js';
import { decodeApplyState, decodeEntry, decodeHardState, decodeSnapshotMeta, encodeApplyState, encodeEntry, encodeHardState, encodeSnapshotMeta } from './codec.js';
import { crc32c } from './crc32c.js';
import { StorageCorruption } from './errors.js';
import { raftLogKey, snapshotMetaKey } from './keys.js';

/** FC_SEED=<n> replays a failing run (fast-check prints the seed on failure). */
const params = { seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined, numRuns: 500 };

const u53 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const entry: fc.Arbitrary<Entry> = fc.record({ term: u53, index: u53, type: fc.constantFrom('normal' as const, 'conf' as const), data: fc.uint8Array({ maxLength: 64 }) });
const ids = fc.uniqueArray(fc.integer({ min: 1, max: 2 ** 40 }), { maxLength: 7 });

/** The bitwise definition of CRC-32C, one bit at a time: the model for the table-driven version. */
function crc32cBitwise(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('matches the standard check value and the bitwise definition', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(100), (data, cut) => {
        expect(crc32c(data)).toBe(crc32cBitwise(data));
        const from = Math.min(cut, data.length);
        expect(crc32c(data, from)).toBe(crc32cBitwise(data.subarray(from)));
      }),
      params,
    );
  });
});

describe('codec roundtrips', () => {
  it('Entry', () => {
    fc.assert(
      fc.property(entry, (e) => {
        expect(decodeEntry(encodeEntry(e))).toEqual(e);
      }),
      params,
    );
  });

  it('HardState', () => {
    fc.assert(
      fc.property(fc.record({ term: u53, vote: u53, commit: u53 }), (hs) => {
        expect(decodeHardState(encodeHardState(hs))).toEqual(hs);
      }),
      params,
    );
  });

  it('SnapshotMeta with its ConfState', () => {
    const conf = fc.tuple(ids, ids).map(([v, l]) => ({ voters: [...v].sort((a, b) => a - b), learners: l.filter((id) => !v.includes(id)).sort((a, b) => a - b) }));
    fc.assert(
      fc.property(u53, u53, conf, (index, term, c) => {
        const meta = { index, term, conf: c };
        expect(decodeSnapshotMeta(encodeSnapshotMeta(meta))).toEqual(meta);
      }),
      params,
    );
  });

  it('ApplyState', () => {
    for (const applied of [0, 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) expect(decodeApplyState(encodeApplyState(applied))).toBe(applied);
  });

  it('neither the encoded value nor the decoded entry aliases the buffer it came from', () => {
    const e: Entry = { term: 1, index: 2, type: 'normal', data: Uint8Array.of(1, 2, 3) };
    const value = encodeEntry(e);
    e.data[0] = 9;
    const decoded = decodeEntry(value);
    expect(Array.from(decoded.data)).toEqual([1, 2, 3]);
    value.fill(0);
    expect(Array.from(decoded.data)).toEqual([1, 2, 3]);
  });
});

describe('damaged values are detected, naming the key', () => {
  const key = raftLogKey(9, 2);
  const value = encodeEntry({ term: 3, index: 2, type: 'conf', data: Uint8Array.of(0, 0xff, 7) });

  function corruption(decode: () => unknown): StorageCorruption {
    try {
      decode();
    } catch (err) {
      expect(err).toBeInstanceOf(StorageCorruption);
      return err as StorageCorruption;
    }
    return expect.fail('decoded a damaged value');
  }

  it('every single flipped bit', () => {
    for (let bit = 0; bit < value.length * 8; bit++) {
      const damaged = value.slice();
      damaged[bit >> 3] ^= 1 << (bit & 7);
      const err = corruption(() => decodeEntry(damaged, key));
      expect(err.code).toBe('STORAGE_CORRUPTION');
      expect(err.message).toMatch(/^corrupt log entry 2 of group 9: /);
      expect(err.details.key).toBe(Buffer.from(key).toString('hex'));
    }
  });

  it('every truncation, and trailing garbage', () => {
    for (let n = 0; n < value.length; n++) corruption(() => decodeEntry(value.subarray(0, n), key));
    corruption(() => decodeEntry(Buffer.concat([value, Uint8Array.of(0)]), key));
  });

  it('random garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (junk) => {
        for (const decode of [decodeEntry, decodeHardState, decodeSnapshotMeta, decodeApplyState]) corruption(() => decode(junk, key));
      }),
      params,
    );
  });

  it('an unknown format version, even with a valid checksum', () => {
    const newer = value.slice();
    newer[4] = 2;
    new DataView(newer.buffer).setUint32(0, crc32c(newer, 4));
    expect(corruption(() => decodeEntry(newer, key)).message).toMatch(/unknown format version 2/);
  });

  it('a membership that breaks ConfState invariants, even with a valid checksum', () => {
    const k = snapshotMetaKey(4);
    const unsorted = encodeSnapshotMeta({ index: 1, term: 1, conf: { voters: [2, 1], learners: [] } });
    expect(corruption(() => decodeSnapshotMeta(unsorted, k)).message).toMatch(/snapshot metadata of group 4: node ids not ascending/);
    const overlapping = encodeSnapshotMeta({ index: 1, term: 1, conf: { voters: [1, 2], learners: [2] } });
    expect(corruption(() => decodeSnapshotMeta(overlapping, k)).message).toMatch(/both voter and learner/);
  });
});
