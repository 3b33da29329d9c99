/**
 * SQLite's implicit conversions of any value to a number: what
 * sqlite3VdbeIntValue, sqlite3VdbeRealValue and sqlite3VdbeBooleanValue
 * return, and the operand types arithmetic works with (numericType).
 */
import type { SqlValue } from '../codec/index.js';
import { arithmeticNumber, parseInteger, parseReal, realToInteger } from './numeric-text.js';
import { textOf } from './text.js';

/** sqlite3VdbeIntValue: NULL is 0, a REAL truncates (clamped), a text reads its integer prefix. */
export function toInteger(v: SqlValue): bigint {
  if (v === null) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return realToInteger(v);
  return parseInteger(textOf(v) ?? '').value;
}

/** sqlite3_value_int: toInteger cut to its low 32 bits, as C's (int) cast does. */
export function toInt32(v: SqlValue): number {
  return Number(BigInt.asIntN(32, toInteger(v)));
}

/** sqlite3VdbeRealValue: NULL is 0.0, a text reads its numeric prefix. */
export function toReal(v: SqlValue): number {
  if (v === null) return 0;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  return parseReal(textOf(v) ?? '').value;
}

/** numericType: the number an arithmetic operator sees ('12abc' is 12, '1.5x' 1.5). */
export function toNumber(v: Exclude<SqlValue, null>): bigint | number {
  if (typeof v === 'bigint' || typeof v === 'number') return v;
  return arithmeticNumber(textOf(v) ?? '');
}

/** sqlite3VdbeBooleanValue: NULL is unknown; otherwise true when the number is not zero. */
export function truthOf(v: SqlValue): boolean | null {
  if (v === null) return null;
  if (typeof v === 'bigint') return v !== 0n;
  return toReal(v) !== 0;
}
