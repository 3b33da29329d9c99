/**
 * Comparison operators (datatype3 §4): the comparison affinity is applied to
 * both operands, then the values are ordered by compareValues (BINARY
 * collation). The result is 1 or 0, or NULL when an operand is NULL, except
 * for IS and IS NOT, which treat two NULLs as equal.
 */
import type { SqlValue } from '../codec/index.js';
import { compareValues } from '../codec/index.js';
import type { Affinity } from './affinity.js';
import { applyComparisonAffinity } from './affinity.js';

export type ComparisonOperator = '<' | '<=' | '>' | '>=' | '=' | '!=' | 'IS' | 'IS NOT';

export function compare(op: ComparisonOperator, left: SqlValue, right: SqlValue, affinity: Affinity): SqlValue {
  if (left === null || right === null) {
    if (op === 'IS') return left === right ? 1n : 0n;
    if (op === 'IS NOT') return left === right ? 0n : 1n;
    return null;
  }
  const c = compareValues(applyComparisonAffinity(left, affinity), applyComparisonAffinity(right, affinity));
  return holds(op, c) ? 1n : 0n;
}

function holds(op: ComparisonOperator, c: number): boolean {
  switch (op) {
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '=':
    case 'IS':
      return c === 0;
    case '!=':
    case 'IS NOT':
      return c !== 0;
  }
}

/** 1, 0 or NULL as a SQL value. */
export function truthValue(b: boolean | null): SqlValue {
  return b === null ? null : b ? 1n : 0n;
}
