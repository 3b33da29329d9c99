/**
 * CAST(x AS type) (lang_expr.html "CAST expressions", vdbemem.c
 * sqlite3VdbeMemCast): the conversion to the affinity of the type name.
 * Unlike a column's affinity it always converts: CAST('12.5abc' AS INTEGER)
 * is 12, CAST('x' AS REAL) is 0.0.
 */
import type { SqlValue } from '../codec/index.js';
import { assertNever } from '../../common/index.js';
import type { Affinity } from './affinity.js';
import { toInteger, toReal } from './coerce.js';
import { numerify } from './numeric-text.js';
import { bytesOf, textOf } from './text.js';

export function castTo(v: SqlValue, affinity: Affinity): SqlValue {
  if (v === null) return null;
  switch (affinity) {
    case 'INTEGER':
      return toInteger(v);
    case 'REAL':
      return toReal(v);
    case 'NUMERIC':
      // A number is left as it is, even a REAL that is a whole number.
      return typeof v === 'bigint' || typeof v === 'number' ? v : numerify(textOf(v) ?? '');
    case 'TEXT':
      return textOf(v);
    case 'BLOB':
    case 'NONE':
      return bytesOf(v);
    default:
      return assertNever(affinity, 'affinity');
  }
}
