/**
 * A table row's value in the KV: its columns in schema order, each a tag and
 * a payload, compact (a small integer takes 2 bytes, a short text its length
 * plus one):
 *
 *   varint count, then per column: 0 NULL | 1 zigzag-varint INTEGER |
 *   2 8-byte REAL | 3 varint length + UTF-8 TEXT | 4 varint length + BLOB
 *
 * The count comes first so that a row written before columns were added
 * reads back with the missing ones absent.
 */
import type { SqlValue } from './value.js';
import { INT64_MAX, INT64_MIN } from './value.js';

const NULL = 0;
const INTEGER = 1;
const REAL = 2;
const TEXT = 3;
const BLOB = 4;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

export class RowFormatError extends Error {}

export function encodeRow(values: readonly SqlValue[]): Uint8Array {
  const out: number[] = [];
  varint(out, BigInt(values.length));
  for (const v of values) {
    if (v === null) out.push(NULL);
    else if (typeof v === 'bigint') {
      if (v < INT64_MIN || v > INT64_MAX) throw new RangeError(`integer ${v} is outside 64 bits`);
      out.push(INTEGER);
      varint(out, v >= 0n ? v << 1n : (-v << 1n) - 1n);
    } else if (typeof v === 'number') {
      out.push(REAL);
      const b = new Uint8Array(new Float64Array([v]).buffer);
      // Big-endian, so equal rows are equal bytes on every platform.
      for (let i = 7; i >= 0; i--) out.push(b[IS_LITTLE_ENDIAN ? i : 7 - i]);
    } else {
      const bytes = typeof v === 'string' ? utf8.encode(v) : v;
      out.push(typeof v === 'string' ? TEXT : BLOB);
      varint(out, BigInt(bytes.byteLength));
      for (const b of bytes) out.push(b);
    }
  }
  return Uint8Array.from(out);
}

export function decodeRow(bytes: Uint8Array): SqlValue[] {
  const r = new RowReader(bytes);
  const count = Number(r.varint());
  const values: SqlValue[] = [];
  for (let i = 0; i < count; i++) values.push(r.value());
  if (!r.done()) throw new RowFormatError(`${bytes.byteLength - r.at} trailing bytes after ${count} columns`);
  return values;
}

const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function varint(out: number[], v: bigint): void {
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

class RowReader {
  at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  done(): boolean {
    return this.at === this.bytes.byteLength;
  }

  private byte(): number {
    if (this.at >= this.bytes.byteLength) throw new RowFormatError(`row truncated at byte ${this.at}`);
    return this.bytes[this.at++];
  }

  varint(): bigint {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (shift > 63n) throw new RowFormatError(`varint longer than 10 bytes at byte ${this.at}`);
      const b = this.byte();
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  }

  private take(n: number): Uint8Array {
    if (this.at + n > this.bytes.byteLength) throw new RowFormatError(`row truncated at byte ${this.at} (need ${n})`);
    const out = this.bytes.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }

  value(): SqlValue {
    const tag = this.byte();
    switch (tag) {
      case NULL:
        return null;
      case INTEGER: {
        const z = this.varint();
        return z & 1n ? -((z + 1n) >> 1n) : z >> 1n;
      }
      case REAL: {
        const be = this.take(8);
        const b = new Uint8Array(8);
        for (let i = 0; i < 8; i++) b[IS_LITTLE_ENDIAN ? 7 - i : i] = be[i];
        return new Float64Array(b.buffer)[0];
      }
      case TEXT:
        try {
          return fromUtf8.decode(this.take(Number(this.varint())));
        } catch (err) {
          if (err instanceof RowFormatError) throw err;
          throw new RowFormatError(`text that is not UTF-8 at byte ${this.at}`);
        }
      case BLOB:
        return this.take(Number(this.varint()));
      default:
        throw new RowFormatError(`unknown column tag ${tag} at byte ${this.at - 1}`);
    }
  }
}
