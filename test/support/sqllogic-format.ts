/**
 * A query's values as sqllogictest's SQLite engine prints them: by the
 * column's declared type letter, not the value's storage class. NULL is
 * `NULL`; I is sqlite3_column_int64 in decimal; R is `%.3f` of
 * sqlite3_column_double; T is sqlite3_column_text with every byte outside
 * ' '..'~' as '@' and the empty string as `(empty)`.
 */
import { createHash } from 'node:crypto';
import type { SqlValue } from '../../src/sql/index.js';
import { toInteger, toReal } from '../../src/sql/eval/coerce.js';
import { bytesOf } from '../../src/sql/eval/text.js';
import type { SortMode } from './sqllogic-records.js';

export function formatValue(v: SqlValue, type: string): string {
  if (v === null) return 'NULL';
  if (type === 'I') return toInteger(v).toString();
  if (type === 'R') return fixed3(toReal(v));
  return printableText(bytesOf(v));
}

/** sqlite3_snprintf's `%.3f`; toFixed switches to exponents from 1e21, where the double is a whole number. */
function fixed3(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'Inf' : '-Inf';
  if (Math.abs(x) < 1e21) return x.toFixed(3);
  return `${BigInt(x).toString()}.000`;
}

function printableText(bytes: Uint8Array): string {
  let out = '';
  // The C string ends at the first NUL.
  for (const b of bytes) {
    if (b === 0) break;
    out += b < 0x20 || b > 0x7e ? '@' : String.fromCharCode(b);
  }
  return out === '' ? '(empty)' : out;
}

/** The rows' values in the order the runner compares them: rowsort sorts rows, valuesort every value. */
export function orderedValues(rows: readonly (readonly string[])[], sort: SortMode): string[] {
  if (sort === 'valuesort') return rows.flat().sort(byBytes);
  if (sort === 'nosort') return rows.flat();
  return [...rows].sort(byColumns).flat();
}

// The strings are ASCII, so comparing UTF-16 units is strcmp.
function byBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byColumns(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = byBytes(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

/** How the runner states a large result: the md5 of every value followed by a newline. */
export function hashLine(values: readonly string[]): string {
  const md5 = createHash('md5');
  for (const v of values) md5.update(`${v}\n`);
  return `${values.length} values hashing to ${md5.digest('hex')}`;
}
