/**
 * Order-preserving ("memcomparable") encoding of SQL values for keys: the
 * encodings of two values compare bytewise as SQLite compares the values
 * (BINARY collation), so a range of rows or index entries is a range of keys:
 *
 *   NULL < numbers (INTEGER and REAL by value, 1 = 1.0) < TEXT < BLOB
 *
 * Values that SQLite holds equal encode equal (an INTEGER 1 and a REAL 1.0),
 * which is what a primary key or a unique index needs. The encoding is one
 * way for numbers (it does not say INTEGER or REAL): the row keeps the value
 * itself (row-encoding.ts).
 *
 * Numbers: a 64-bit integer is not always a double, so a number is written as
 * the largest double f <= v (8 bytes, sign-flipped IEEE bits, which sort like
 * the doubles) followed by v - f as a u16 (0 for every REAL; below 2^11 for
 * an integer, since doubles near 2^63 are 2^11 apart). Text and blobs: their
 * bytes with 0x00 escaped as 0x00 0xFF, then 0x00 0x01, so a prefix sorts
 * first. A descending column inverts every byte of its value's encoding.
 */
import type { SqlValue } from './value.js';

const TAG_NULL = 0x05;
const TAG_NUMBER = 0x15;
const TAG_TEXT = 0x25;
const TAG_BLOB = 0x35;

const scratch = new DataView(new ArrayBuffer(8));
const utf8 = new TextEncoder();

/** Appends key-ordered encodings of SQL values; `finish` returns the key. */
export class KeyWriter {
  private readonly out: number[] = [];

  /** Raw bytes (a prefix such as a table's), written as they are. */
  raw(bytes: Uint8Array): this {
    for (const b of bytes) this.out.push(b);
    return this;
  }

  value(v: SqlValue, descending = false): this {
    const start = this.out.length;
    if (v === null) this.out.push(TAG_NULL);
    else if (typeof v === 'bigint') this.integer(v);
    else if (typeof v === 'number') this.real(v);
    else if (typeof v === 'string') this.escaped(TAG_TEXT, utf8.encode(v));
    else this.escaped(TAG_BLOB, v);
    if (descending) for (let i = start; i < this.out.length; i++) this.out[i] ^= 0xff;
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.out);
  }

  private real(v: number): void {
    if (Number.isNaN(v)) throw new Error('NaN has no key: SQLite stores it as NULL');
    this.number(v === 0 ? 0 : v, 0);
  }

  private integer(v: bigint): void {
    let f = Number(v);
    // Number() rounds to nearest; the largest double not above v is wanted.
    if (BigInt(f) > v) f = nextDown(f);
    this.number(f, Number(v - BigInt(f)));
  }

  private number(f: number, offset: number): void {
    this.out.push(TAG_NUMBER);
    scratch.setFloat64(0, f);
    const negative = scratch.getUint8(0) & 0x80;
    for (let i = 0; i < 8; i++) {
      const b = scratch.getUint8(i);
      // Positive doubles sort like their bits once the sign bit is set; negative ones once all bits flip.
      this.out.push(negative ? b ^ 0xff : i === 0 ? b | 0x80 : b);
    }
    this.out.push(offset >>> 8, offset & 0xff);
  }

  private escaped(tag: number, bytes: Uint8Array): void {
    this.out.push(tag);
    for (const b of bytes) {
      this.out.push(b);
      if (b === 0x00) this.out.push(0xff);
    }
    this.out.push(0x00, 0x01);
  }
}

/** The next double below f (f finite). */
function nextDown(f: number): number {
  if (f === 0) return -Number.MIN_VALUE;
  scratch.setFloat64(0, f);
  const bits = scratch.getBigUint64(0);
  scratch.setBigUint64(0, f > 0 ? bits - 1n : bits + 1n);
  return scratch.getFloat64(0);
}

/** The key encoding of one value (for tests and bounds). */
export const encodeKeyValue = (v: SqlValue, descending = false): Uint8Array => new KeyWriter().value(v, descending).finish();
