import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, putU64 } from './bytes.js';

const malformed = (why: string) => new Error(why);

describe('ByteWriter and ByteReader', () => {
  it('round-trip every field type, big-endian', () => {
    const w = new ByteWriter(4);
    w.u8(0xab);
    w.u32(0xdeadbeef);
    w.u64(2 ** 53 - 1);
    w.ts(0xfedc_ba98_7654_3210n);
    w.bytes(Uint8Array.of(1, 2, 3));
    const out = w.finish().slice();
    expect([...out.subarray(0, 5)]).toEqual([0xab, 0xde, 0xad, 0xbe, 0xef]);
    expect([...out.subarray(13, 21)]).toEqual([0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10]);
    const r = new ByteReader(out, malformed);
    expect([r.u8(), r.u32(), r.u64(), r.ts(), [...r.bytes()]]).toEqual([0xab, 0xdeadbeef, 2 ** 53 - 1, 0xfedc_ba98_7654_3210n, [1, 2, 3]]);
    r.end();
  });

  it('hands out buffers that never overlap, across slabs and growth', () => {
    // Many small writers fill several 64 KiB slabs; each copy keeps its own bytes.
    const copies: Uint8Array[] = [];
    for (let i = 0; i < 5_000; i++) {
      const w = new ByteWriter(8 + (i % 40));
      for (let j = 0; j < 30 + (i % 50); j++) w.u8(i & 0xff); // grows past its initial size now and then
      copies.push(w.finish().slice());
    }
    copies.forEach((c, i) => {
      expect(c.length).toBe(30 + (i % 50));
      expect(c.every((b) => b === (i & 0xff))).toBe(true);
    });
  });

  it('writes a u64 modulo 2^64, as DataView does', () => {
    const a = new Uint8Array(10);
    putU64(a, 1, (1n << 64n) + 5n);
    expect([...a]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 5, 0]);
  });

  it('a reader rejects truncated input and integers beyond 2^53', () => {
    expect(() => new ByteReader(Uint8Array.of(0, 0, 1), malformed).u32()).toThrow(/truncated/);
    const w = new ByteWriter();
    w.ts(1n << 60n);
    expect(() => new ByteReader(w.finish(), malformed).u64()).toThrow(/beyond 2\^53/);
  });
});
