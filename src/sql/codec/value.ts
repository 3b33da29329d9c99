/**
 * A SQL value as SQLite stores it: one of its five storage classes. INTEGER is
 * a bigint (SQLite's integers are 64-bit), REAL a number (never NaN: SQLite
 * turns NaN into NULL), TEXT a string, BLOB bytes.
 */
export type SqlValue = null | bigint | number | string | Uint8Array;

export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;

/** SQLite's storage class of a value, as `typeof()` names it. */
export function storageClass(v: SqlValue): 'null' | 'integer' | 'real' | 'text' | 'blob' {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'bigint':
      return 'integer';
    case 'number':
      return 'real';
    case 'string':
      return 'text';
    default:
      return 'blob';
  }
}

const RANK = { null: 0, integer: 1, real: 1, text: 2, blob: 3 } as const;
const utf8 = new TextEncoder();

/**
 * SQLite's order of two values with the BINARY collation: NULL, then numbers
 * by value (an INTEGER against a REAL exactly, as SQLite does), then TEXT by
 * its UTF-8 bytes, then BLOBs by their bytes. Negative, zero or positive.
 */
export function compareValues(a: SqlValue, b: SqlValue): number {
  const ra = RANK[storageClass(a)];
  const rb = RANK[storageClass(b)];
  if (ra !== rb) return ra - rb;
  if (a === null || b === null) return 0;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'bigint' && typeof b === 'number') return compareIntegerReal(a, b);
  if (typeof a === 'number' && typeof b === 'bigint') return -compareIntegerReal(b, a);
  const x = typeof a === 'string' ? utf8.encode(a) : (a as Uint8Array);
  const y = typeof b === 'string' ? utf8.encode(b) : (b as Uint8Array);
  return Buffer.compare(x, y);
}

function compareIntegerReal(i: bigint, r: number): number {
  if (r === Infinity) return -1;
  if (r === -Infinity) return 1;
  const floor = Math.floor(r);
  const f = BigInt(floor);
  if (i !== f) return i < f ? -1 : 1;
  // i is the integer part of r: equal unless r has a fraction.
  return r > floor ? -1 : 0;
}
