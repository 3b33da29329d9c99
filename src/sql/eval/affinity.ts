/**
 * Type affinity (https://www.sqlite.org/datatype3.html §3): a column's
 * preferred storage class, read from its declared type, and the conversions
 * a comparison applies before comparing (§4.2).
 */
import type { SqlValue } from '../codec/index.js';
import { numericAffinityOfText, realSameAsInt } from './numeric-text.js';
import { numberToText } from './text.js';

/** NONE: an expression that is not a column or a CAST has no affinity. */
export type Affinity = 'INTEGER' | 'REAL' | 'NUMERIC' | 'TEXT' | 'BLOB' | 'NONE';

/**
 * datatype3 §3.1, in its order: INT anywhere gives INTEGER; else CHAR, CLOB or
 * TEXT gives TEXT; else BLOB or no type gives BLOB; else REAL, FLOA or DOUB
 * gives REAL; anything else NUMERIC ("BOOLEAN", "DECIMAL(10,2)").
 */
export function affinityOfTypeName(name: string | null): Affinity {
  if (name === null) return 'BLOB';
  const upper = name.toUpperCase();
  if (upper.includes('INT')) return 'INTEGER';
  if (/CHAR|CLOB|TEXT/.test(upper)) return 'TEXT';
  if (upper.includes('BLOB')) return 'BLOB';
  if (/REAL|FLOA|DOUB/.test(upper)) return 'REAL';
  return 'NUMERIC';
}

function isNumeric(a: Affinity): boolean {
  return a === 'INTEGER' || a === 'REAL' || a === 'NUMERIC';
}

/**
 * The affinity a comparison applies to both operands (sqlite3CompareAffinity):
 * numeric if either side is numeric and the other has any affinity or none;
 * TEXT if one side is TEXT and the other has none; otherwise no conversion.
 */
export function comparisonAffinity(left: Affinity, right: Affinity): Affinity {
  if (left !== 'NONE' && right !== 'NONE') return isNumeric(left) || isNumeric(right) ? 'NUMERIC' : 'BLOB';
  return left === 'NONE' ? right : left;
}

/**
 * A comparison operand after the affinity: numeric affinity turns a text that
 * is wholly a number into that number, TEXT affinity turns a number into text.
 */
export function applyComparisonAffinity(v: SqlValue, affinity: Affinity): SqlValue {
  if (isNumeric(affinity)) return typeof v === 'string' ? numericAffinityOfText(v) : v;
  if (affinity === 'TEXT') return typeof v === 'bigint' || typeof v === 'number' ? numberToText(v) : v;
  return v;
}

/**
 * A value as a column of that affinity stores it (datatype3 §3): the
 * comparison conversions, and then a numeric column keeps a whole REAL as an
 * INTEGER ('3.0' and 3.0 store 3) while a REAL column keeps every number REAL.
 */
export function applyColumnAffinity(v: SqlValue, affinity: Affinity): SqlValue {
  const converted = applyComparisonAffinity(v, affinity);
  if (affinity === 'REAL' && typeof converted === 'bigint') return Number(converted);
  if ((affinity === 'INTEGER' || affinity === 'NUMERIC') && typeof converted === 'number' && Number.isInteger(converted) && realSameAsInt(converted, BigInt(converted))) {
    return BigInt(converted);
  }
  return converted;
}
