/**
 * SQLite's arithmetic and bitwise operators (vdbe.c OP_Add … OP_Remainder,
 * OP_BitAnd … OP_ShiftRight, OP_BitNot, OP_Concat). Integers are 64-bit; a
 * sum, difference, product or quotient that overflows is redone in REAL, as
 * SQLite does. NULL in, NULL out.
 */
import type { SqlValue } from '../codec/index.js';
import { INT64_MAX, INT64_MIN } from '../codec/index.js';
import { toInteger, toNumber } from './coerce.js';
import { textOf } from './text.js';

export type ArithmeticOperator = '+' | '-' | '*' | '/' | '%';
export type BitwiseOperator = '&' | '|' | '<<' | '>>';

export function arithmetic(op: ArithmeticOperator, left: SqlValue, right: SqlValue): SqlValue {
  if (left === null || right === null) return null;
  const a = toNumber(left);
  const b = toNumber(right);
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    const exact = integerArithmetic(op, a, b);
    if (exact !== 'overflow') return exact;
  }
  return realArithmetic(op, a, b);
}

function integerArithmetic(op: ArithmeticOperator, a: bigint, b: bigint): bigint | null | 'overflow' {
  let result: bigint;
  switch (op) {
    case '+':
      result = a + b;
      break;
    case '-':
      result = a - b;
      break;
    case '*':
      result = a * b;
      break;
    case '/':
      if (b === 0n) return null;
      result = a / b; // BigInt division truncates toward zero, as C's does
      break;
    case '%':
      if (b === 0n) return null;
      // SQLite turns x % -1 into x % 1 so that INT64_MIN % -1 cannot trap.
      return a % (b === -1n ? 1n : b);
  }
  return result < INT64_MIN || result > INT64_MAX ? 'overflow' : result;
}

function realArithmetic(op: ArithmeticOperator, a: bigint | number, b: bigint | number): number | null {
  const x = Number(a);
  const y = Number(b);
  let result: number;
  switch (op) {
    case '+':
      result = x + y;
      break;
    case '-':
      result = x - y;
      break;
    case '*':
      result = x * y;
      break;
    case '/':
      if (y === 0) return null;
      result = x / y;
      break;
    case '%': {
      // SQLite's REAL remainder is taken on both operands cast to INTEGER.
      const divisor = toInteger(b);
      if (divisor === 0n) return null;
      return Number(toInteger(a) % (divisor === -1n ? 1n : divisor));
    }
  }
  return Number.isNaN(result) ? null : result;
}

/** -x is SQLite's 0 - x: a text becomes a number, -INT64_MIN a REAL. */
export function negate(v: SqlValue): SqlValue {
  return arithmetic('-', 0n, v);
}

export function bitwise(op: BitwiseOperator, left: SqlValue, right: SqlValue): SqlValue {
  if (left === null || right === null) return null;
  const a = toInteger(left);
  const b = toInteger(right);
  switch (op) {
    case '&':
      return a & b;
    case '|':
      return a | b;
    case '<<':
      return shift(a, b, 'left');
    case '>>':
      return shift(a, b, 'right');
  }
}

/** A shift by a negative amount goes the other way; by 64 or more it empties (or fills with the sign). */
function shift(value: bigint, by: bigint, direction: 'left' | 'right'): bigint {
  if (by < 0n) return shift(value, by > -64n ? -by : 64n, direction === 'left' ? 'right' : 'left');
  if (by >= 64n) return direction === 'left' || value >= 0n ? 0n : -1n;
  return direction === 'left' ? BigInt.asIntN(64, value << by) : value >> by;
}

export function bitNot(v: SqlValue): SqlValue {
  return v === null ? null : ~toInteger(v);
}

/** x || y: both as text. */
export function concat(left: SqlValue, right: SqlValue): SqlValue {
  const a = textOf(left);
  const b = textOf(right);
  return a === null || b === null ? null : a + b;
}
