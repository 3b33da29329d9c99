/**
 * Values as text, the way SQLite renders them: sqlite3VdbeMemStringify for
 * numbers (what `||`, CAST AS TEXT and TEXT affinity produce) and
 * sqlite3_value_text for the arguments of text functions.
 */
import type { SqlValue } from '../codec/index.js';

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

/**
 * A REAL as SQLite writes it: printf's `%!.15g` (15 significant digits,
 * trailing zeros dropped but at least one digit after the point, exponent of
 * at least two digits), so 1.0 is '1.0', 1e20 '1.0e+20', 1.5e-7 '1.5e-07'.
 * The HTTP API renders REALs with this too.
 */
export function realToText(r: number): string {
  if (r === Infinity) return 'Inf';
  if (r === -Infinity) return '-Inf';
  // SQLite's printf tests `r < 0`, so -0.0 prints without a sign.
  if (r === 0) return '0.0';
  const sign = r < 0 ? '-' : '';
  const [mantissa, exp] = Math.abs(r).toExponential(14).split('e');
  const digits = mantissa.replace('.', '').replace(/0+$/, '');
  const exponent = Number(exp);
  if (exponent < -4 || exponent > 14) {
    const fraction = digits.slice(1) || '0';
    const e = Math.abs(exponent).toString().padStart(2, '0');
    return `${sign}${digits[0]}.${fraction}e${exponent < 0 ? '-' : '+'}${e}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  return `${sign}${whole}.${digits.slice(exponent + 1) || '0'}`;
}

/** The text of a number (INTEGER in decimal, REAL by realToText). */
export function numberToText(n: bigint | number): string {
  return typeof n === 'bigint' ? n.toString() : realToText(n);
}

/** sqlite3_value_text: NULL stays null, a BLOB's bytes are read as UTF-8. */
export function textOf(v: SqlValue): string | null {
  if (v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'number') return numberToText(v);
  return utf8Decoder.decode(v);
}

/** A BLOB's bytes, or the UTF-8 bytes of any other non-NULL value's text. */
export function bytesOf(v: Exclude<SqlValue, null>): Uint8Array {
  return v instanceof Uint8Array ? v : utf8Encoder.encode(textOf(v) ?? '');
}

/** The text before the first NUL: SQLite's C strings end there (length(), LIKE). */
export function untilNul(text: string): string {
  const nul = text.indexOf('\0');
  return nul < 0 ? text : text.slice(0, nul);
}
