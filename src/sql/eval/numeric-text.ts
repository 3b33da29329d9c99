/**
 * How SQLite reads numbers out of text: sqlite3AtoF (a real, from the longest
 * numeric prefix) and sqlite3Atoi64 (an integer prefix, clamped to 64 bits),
 * and what each reports about the rest of the string, which decides whether
 * a text becomes an INTEGER or a REAL (vdbe.c computeNumericType,
 * vdbemem.c sqlite3VdbeMemNumerify and applyNumericAffinity).
 */
import { INT64_MAX, INT64_MIN } from '../codec/index.js';

/** sqlite3Isspace: the six ASCII white-space characters. */
const SPACE = /^[ \t\n\v\f\r]*/;
const REAL_PREFIX = /^[ \t\n\v\f\r]*([+-]?)(\d*)(?:\.(\d*))?/;
const EXPONENT = /^[eE]([+-]?)(\d+)/;

/** sqlite3AtoF's verdict on a whole string. */
export type RealParse = {
  readonly value: number;
  /**
   * 1: a pure integer; 2 or more: a pure number with a `.` or an exponent;
   * 0: not a number (the value is the prefix's, or 0); -1: not a number,
   * but its prefix has a `.` or an exponent.
   */
  readonly rc: number;
};

/** sqlite3AtoF: the value of the longest numeric prefix, and what the rest is. */
export function parseReal(text: string): RealParse {
  const m = REAL_PREFIX.exec(text);
  if (m === null) return { value: 0, rc: 0 };
  const [whole, sign, intDigits, fracDigits] = m;
  const digits = intDigits.length + (fracDigits ?? '').length;
  let type = fracDigits === undefined ? 1 : 2;
  let end = whole.length;
  let mantissa = `${intDigits || '0'}.${fracDigits ?? ''}0`;
  let exponent = '';
  let exponentValid = true;
  if (digits > 0 && /^[eE]/.test(text.slice(end))) {
    type++;
    const e = EXPONENT.exec(text.slice(end));
    if (e === null) {
      exponentValid = false;
      end += /^[eE][+-]?/.exec(text.slice(end))?.[0].length ?? 1;
    } else {
      exponent = `e${e[1]}${e[2]}`;
      end += e[0].length;
    }
  }
  if (digits === 0) mantissa = '0';
  const value = Number(`${sign}${mantissa}${exponent}`);
  end += SPACE.exec(text.slice(end))?.[0].length ?? 0;
  if (end === text.length && digits > 0 && exponentValid) return { value, rc: type };
  if (type >= 2 && (type === 3 || exponentValid) && digits > 0) return { value, rc: -1 };
  return { value, rc: 0 };
}

const INTEGER_PREFIX = /^[ \t\n\v\f\r]*([+-]?)(\d*)([ \t\n\v\f\r]*)/;
const TWO_TO_63 = 1n << 63n;

/** sqlite3Atoi64's verdict: the clamped value of the integer prefix and a code. */
export type IntegerParse = {
  readonly value: bigint;
  /** 0: exact; 1: text after the digits; -1: no digits; 2: too large; 3: exactly 2^63. */
  readonly rc: number;
};

/** sqlite3Atoi64: the integer prefix of a text, clamped to 64 bits. */
export function parseInteger(text: string): IntegerParse {
  const m = INTEGER_PREFIX.exec(text);
  const [whole, sign, digits] = m ?? ['', '', ''];
  const negative = sign === '-';
  const magnitude = digits === '' ? 0n : BigInt(digits);
  let rc = digits === '' ? -1 : whole.length < text.length ? 1 : 0;
  let value = negative ? -magnitude : magnitude;
  if (magnitude >= TWO_TO_63) {
    value = negative ? INT64_MIN : INT64_MAX;
    if (magnitude > TWO_TO_63) rc = 2;
    else if (!negative) rc = 3;
  }
  return { value, rc };
}

/** sqlite3RealSameAsInt: r is i exactly, and small enough to be stored as an integer. */
export function realSameAsInt(r: number, i: bigint): boolean {
  return r === 0 || (Number(i) === r && i >= -(1n << 51n) && i < 1n << 51n);
}

/** doubleToInt64: truncation toward zero, clamped to the 64-bit range. */
export function realToInteger(r: number): bigint {
  if (r <= -9223372036854775808) return INT64_MIN;
  if (r >= 9223372036854775808) return INT64_MAX;
  return BigInt(Math.trunc(r));
}

/**
 * computeNumericType: the number arithmetic reads from a text. An integer
 * prefix gives an INTEGER ('12abc' is 12, 'abc' is 0), a `.` or exponent a REAL.
 */
export function arithmeticNumber(text: string): bigint | number {
  const real = parseReal(text);
  if (real.rc <= 0) {
    const int = real.rc === 0 ? parseInteger(text) : null;
    return int !== null && int.rc <= 1 ? int.value : real.value;
  }
  if (real.rc === 1) {
    const int = parseInteger(text);
    if (int.rc === 0) return int.value;
  }
  return real.value;
}

/**
 * sqlite3VdbeMemNumerify (CAST AS NUMERIC): like arithmeticNumber, but a
 * real that is a small whole number becomes an INTEGER ('1e3' is 1000).
 */
export function numerify(text: string): bigint | number {
  const real = parseReal(text);
  if (real.rc === 0 || real.rc === 1) {
    const int = parseInteger(text);
    if (int.rc <= 1) return int.value;
  }
  if (Number.isFinite(real.value) && Number.isInteger(real.value) && realSameAsInt(real.value, BigInt(real.value))) {
    return BigInt(real.value);
  }
  return real.value;
}

/**
 * applyNumericAffinity, as a comparison applies it: a text that is wholly a
 * number becomes that number; any other text stays text.
 */
export function numericAffinityOfText(text: string): bigint | number | string {
  const real = parseReal(text);
  if (real.rc <= 0) return text;
  if (real.rc === 1) {
    const int = parseInteger(text);
    if (int.rc === 0) return int.value;
  }
  return real.value;
}
