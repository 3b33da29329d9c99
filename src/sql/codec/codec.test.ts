/**
 * The key encoding sorts as SQLite compares (checked against compareValues
 * over random values, with a printed seed), rows round-trip, and a malformed
 * row is a RowFormatError, never another exception.
 */
import { describe, expect, it } from 'vitest';
import type { SqlValue } from './index.js';
import { compareValues, decodeRow, encodeKeyValue, encodeRow, indexKey, INT64_MAX, INT64_MIN, KeyWriter, RowFormatError, rowBounds, rowKey, SQL_PREFIX } from './index.js';

const SEED = Number(process.env.CODEC_SEED ?? Date.now() % 1_000_000);

/** mulberry32: a small seeded generator, so a failure replays with CODEC_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EDGES: SqlValue[] = [
  null,
  0n,
  1n,
  -1n,
  INT64_MIN,
  INT64_MAX,
  INT64_MAX - 1n,
  INT64_MIN + 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  -(2n ** 53n) - 1n,
  2n ** 62n + 3n,
  0,
  -0,
  0.5,
  -0.5,
  1,
  1.5,
  -1e308,
  1e308,
  Infinity,
  -Infinity,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2 ** 53,
  2 ** 63,
  -(2 ** 63),
  9.223372036854776e18,
  '',
  'a',
  'a\0',
  'a\0b',
  'ab',
  'b',
  '\u{1F600}',
  '\uE000',
  'é',
  new Uint8Array([]),
  new Uint8Array([0]),
  new Uint8Array([0, 0]),
  new Uint8Array([0, 0xff]),
  new Uint8Array([0xff]),
  new Uint8Array([1, 2, 3]),
];

function randomValue(r: () => number): SqlValue {
  const pick = r();
  if (pick < 0.3) return EDGES[Math.floor(r() * EDGES.length)];
  if (pick < 0.5) return BigInt(Math.floor((r() - 0.5) * 2 ** 20)) * (r() < 0.2 ? 2n ** 40n : 1n) + BigInt(Math.floor(r() * 4096));
  if (pick < 0.7) return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
  if (pick < 0.85) return String.fromCharCode(...Array.from({ length: Math.floor(r() * 4) }, () => [0, 0x61, 0x62, 0xe9, 0xd83d][Math.floor(r() * 5)])).replace(/[\ud800-\udfff]/g, 'x');
  return new Uint8Array(Array.from({ length: Math.floor(r() * 4) }, () => [0, 1, 0xfe, 0xff][Math.floor(r() * 4)]));
}

const sign = (x: number) => (x < 0 ? -1 : x > 0 ? 1 : 0);
const show = (v: SqlValue) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `x'${Buffer.from(v).toString('hex')}'` : JSON.stringify(v) ?? String(v));

describe('key encoding', () => {
  it(`sorts bytewise as SQLite compares, ascending and descending (CODEC_SEED=${SEED})`, () => {
    const r = rng(SEED);
    const values = [...EDGES, ...Array.from({ length: 300 }, () => randomValue(r))];
    const bad: string[] = [];
    for (const a of values) {
      for (const b of values) {
        const want = sign(compareValues(a, b));
        if (sign(Buffer.compare(encodeKeyValue(a), encodeKeyValue(b))) !== want) bad.push(`${show(a)} vs ${show(b)}: want ${want}`);
        if (sign(Buffer.compare(encodeKeyValue(a, true), encodeKeyValue(b, true))) !== -want) bad.push(`desc ${show(a)} vs ${show(b)}: want ${-want}`);
      }
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('encodes values SQLite holds equal as equal keys, and close ones apart', () => {
    expect(encodeKeyValue(1n)).toEqual(encodeKeyValue(1));
    expect(encodeKeyValue(0n)).toEqual(encodeKeyValue(-0));
    expect(encodeKeyValue(2n ** 53n)).toEqual(encodeKeyValue(2 ** 53));
    // 2^53 + 1 is no double: between 2^53 and the next double, 2^53 + 2.
    expect(Buffer.compare(encodeKeyValue(2n ** 53n + 1n), encodeKeyValue(2 ** 53))).toBe(1);
    expect(Buffer.compare(encodeKeyValue(2n ** 53n + 1n), encodeKeyValue(2 ** 53 + 2))).toBe(-1);
    expect(Buffer.compare(encodeKeyValue(INT64_MAX), encodeKeyValue(2 ** 63))).toBe(-1);
    expect(() => encodeKeyValue(Number.NaN)).toThrow('NaN');
  });

  it('keeps tuples in order: a value never runs into the next one', () => {
    const tuple = (...vs: SqlValue[]) => vs.reduce((w: KeyWriter, v) => w.value(v), new KeyWriter()).finish();
    const ordered = [tuple('a', null, 1n), tuple('a', 9n), tuple('a\0', 0n), tuple('ab', -1n), tuple(new Uint8Array([0]), 0n), tuple(new Uint8Array([0, 0]), 0n)];
    for (let i = 1; i < ordered.length; i++) expect(Buffer.compare(ordered[i - 1], ordered[i])).toBe(-1);
  });
});

describe('table keys', () => {
  it('puts rows in primary-key order inside their table bounds, tables apart, after every /kv key', () => {
    const { gte, lt } = rowBounds(7);
    const keys = [rowKey(7, [null]), rowKey(7, [-5n]), rowKey(7, [2.5]), rowKey(7, [3n]), rowKey(7, ['x'])];
    for (let i = 0; i < keys.length; i++) {
      expect(Buffer.compare(gte, keys[i])).toBeLessThanOrEqual(0);
      expect(Buffer.compare(keys[i], lt)).toBe(-1);
      if (i > 0) expect(Buffer.compare(keys[i - 1], keys[i])).toBe(-1);
    }
    expect(Buffer.compare(lt, rowKey(8, [null]))).toBe(-1);
    // The largest UTF-8 character a /kv key can start with still sorts before SQL's prefix.
    expect(Buffer.compare(Buffer.from('\u{10FFFF}'), SQL_PREFIX)).toBe(-1);
  });

  it('orders index entries by their columns (descending ones reversed), a non-unique entry made unique by the primary key', () => {
    const asc = (v: SqlValue) => ({ value: v, descending: false });
    const desc = (v: SqlValue) => ({ value: v, descending: true });
    expect(Buffer.compare(indexKey(1, 2, [asc('a'), desc(5n)]), indexKey(1, 2, [asc('a'), desc(4n)]))).toBe(-1);
    expect(Buffer.compare(indexKey(1, 2, [asc('a')], [1n]), indexKey(1, 2, [asc('a')], [2n]))).toBe(-1);
    expect(indexKey(1, 2, [asc('a')], [1n])).not.toEqual(indexKey(1, 2, [asc('a')], [2n]));
    expect(() => rowKey(-1, [])).toThrow(RangeError);
  });
});

describe('row encoding', () => {
  it(`round-trips every value (CODEC_SEED=${SEED})`, () => {
    const r = rng(SEED + 1);
    for (let i = 0; i < 500; i++) {
      const row = Array.from({ length: Math.floor(r() * 6) }, () => randomValue(r));
      const back = decodeRow(encodeRow(row));
      expect(back.length).toBe(row.length);
      back.forEach((v, j) => expect(Object.is(v, row[j]) || (v instanceof Uint8Array && Buffer.compare(v, row[j] as Uint8Array) === 0) || v === row[j], `${show(v)} vs ${show(row[j])}`).toBe(true));
    }
    expect(decodeRow(encodeRow([INT64_MIN, INT64_MAX, -0, 'é']))).toEqual([INT64_MIN, INT64_MAX, -0, 'é']);
    expect(encodeRow([1n, 'ab']).byteLength).toBe(1 + 2 + 4);
  });

  it('refuses an integer outside 64 bits', () => {
    expect(() => encodeRow([INT64_MAX + 1n])).toThrow(RangeError);
  });

  it.each([
    ['truncated', Uint8Array.of(2, 1)],
    ['an unknown tag', Uint8Array.of(1, 9)],
    ['trailing bytes', Uint8Array.of(1, 0, 0)],
    ['text that is not UTF-8', Uint8Array.of(1, 3, 1, 0xff)],
    ['an overlong varint', Uint8Array.of(1, 1, ...Array(11).fill(0xff))],
    ['a real cut short', Uint8Array.of(1, 2, 0, 0)],
  ])('reads %s as a RowFormatError', (_name, bytes) => {
    expect(() => decodeRow(bytes)).toThrow(RowFormatError);
  });

  it(`throws nothing but RowFormatError on random bytes (CODEC_SEED=${SEED})`, () => {
    const r = rng(SEED + 2);
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from(Array.from({ length: Math.floor(r() * 12) }, () => Math.floor(r() * 256)));
      try {
        decodeRow(bytes);
      } catch (err) {
        expect(err).toBeInstanceOf(RowFormatError);
      }
    }
  });
});
