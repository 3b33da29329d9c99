/**
 * evaluate: an expression's value for one row, with SQLite's semantics
 * (https://www.sqlite.org/lang_expr.html). Pure: columns, parameters and
 * aggregates come from the RowContext.
 */
import { assertNever } from '../../common/index.js';
import type { Between, Binary, Case, ColumnRef, Expr, FunctionCall, InList, Parameter } from '../ast.js';
import type { SqlValue } from '../codec/index.js';
import type { Affinity } from './affinity.js';
import { affinityOfTypeName, comparisonAffinity } from './affinity.js';
import { arithmetic, bitNot, bitwise, concat, negate } from './arithmetic.js';
import { castTo } from './cast.js';
import { truthOf } from './coerce.js';
import { compare, truthValue } from './compare.js';
import { callScalar, isAggregateCall } from './functions.js';
import { like } from './like.js';

/** What an expression reads from outside itself. */
export interface RowContext {
  /** The value of a column of the current row (the binder has resolved the name). */
  column(ref: ColumnRef): SqlValue;
  /** The affinity of a column's declared type (affinityOfTypeName), which comparisons apply. */
  columnAffinity(ref: ColumnRef): Affinity;
  /** A bound parameter; SQLite binds a parameter with no value as NULL. */
  parameter(param: Parameter): SqlValue;
  /** The value of an aggregate call (count, sum, total, avg, one-argument min and max) for the current group. */
  aggregate(call: FunctionCall): SqlValue;
}

export function evaluate(expr: Expr, row: RowContext): SqlValue {
  switch (expr.kind) {
    case 'IntegerLiteral':
    case 'RealLiteral':
    case 'StringLiteral':
      return expr.value;
    case 'BlobLiteral':
      return Uint8Array.from(Buffer.from(expr.hex, 'hex'));
    case 'NullLiteral':
      return null;
    case 'BooleanLiteral':
      return expr.value ? 1n : 0n;
    case 'ColumnRef':
      return row.column(expr);
    case 'Parameter':
      return row.parameter(expr);
    case 'Unary': {
      const v = evaluate(expr.operand, row);
      const op = expr.op;
      switch (op) {
        case '-':
          return negate(v);
        case '+':
          return v;
        case '~':
          return bitNot(v);
        case 'NOT':
          return truthValue(not(truthOf(v)));
        default:
          return assertNever(op, 'unary operator');
      }
    }
    case 'Binary':
      return evaluateBinary(expr, row);
    case 'IsNull': {
      const isNull = evaluate(expr.operand, row) === null;
      return isNull !== expr.not ? 1n : 0n;
    }
    case 'InList':
      return truthValue(xor(inList(expr, row), expr.not));
    case 'Between':
      return truthValue(xor(between(expr, row), expr.not));
    case 'Like': {
      const value = evaluate(expr.operand, row);
      const pattern = evaluate(expr.pattern, row);
      const escape = expr.escape === null ? undefined : evaluate(expr.escape, row);
      return truthValue(xor(truthOf(like(value, pattern, escape)), expr.not));
    }
    case 'Case':
      return evaluateCase(expr, row);
    case 'Cast':
      return castTo(evaluate(expr.operand, row), affinityOfTypeName(expr.type.name));
    case 'FunctionCall':
      if (isAggregateCall(expr)) return row.aggregate(expr);
      return callScalar(expr, { length: expr.args.length, get: (i) => evaluate(expr.args[i], row) });
    default:
      return assertNever(expr, 'expression');
  }
}

/**
 * The affinity of an expression (datatype3 §4.2): a column's, a CAST's type,
 * none for anything else (so `+col` has none).
 */
export function affinityOf(expr: Expr, row: RowContext): Affinity {
  if (expr.kind === 'ColumnRef') return row.columnAffinity(expr);
  if (expr.kind === 'Cast') return affinityOfTypeName(expr.type.name);
  return 'NONE';
}

function evaluateBinary(expr: Binary, row: RowContext): SqlValue {
  const { op } = expr;
  switch (op) {
    case 'AND':
    case 'OR':
      return truthValue(andOr(op, expr, row));
    case 'IS':
    case 'IS NOT':
      // x IS TRUE / x IS FALSE test truth, not equality with 1 or 0 (SQLite's TK_TRUTH).
      if (expr.right.kind === 'BooleanLiteral') {
        const truth = truthOf(evaluate(expr.left, row));
        const is = truth !== null && truth === expr.right.value;
        return is === (op === 'IS') ? 1n : 0n;
      }
      return comparison(op, expr.left, expr.right, row);
    case '<':
    case '<=':
    case '>':
    case '>=':
    case '=':
    case '!=':
      return comparison(op, expr.left, expr.right, row);
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return arithmetic(op, evaluate(expr.left, row), evaluate(expr.right, row));
    case '&':
    case '|':
    case '<<':
    case '>>':
      return bitwise(op, evaluate(expr.left, row), evaluate(expr.right, row));
    case '||':
      return concat(evaluate(expr.left, row), evaluate(expr.right, row));
    default:
      return assertNever(op, 'binary operator');
  }
}

/** Three-valued AND / OR; the right side is not evaluated when the left decides. */
function andOr(op: 'AND' | 'OR', expr: Binary, row: RowContext): boolean | null {
  const decisive = op === 'OR';
  const left = truthOf(evaluate(expr.left, row));
  if (left === decisive) return decisive;
  const right = truthOf(evaluate(expr.right, row));
  if (right === decisive) return decisive;
  return left === null || right === null ? null : !decisive;
}

function comparison(op: Parameters<typeof compare>[0], left: Expr, right: Expr, row: RowContext): SqlValue {
  const affinity = comparisonAffinity(affinityOf(left, row), affinityOf(right, row));
  return compare(op, evaluate(left, row), evaluate(right, row), affinity);
}

/**
 * x IN (list): true on an equal item; otherwise NULL if x or an item is
 * NULL, else false. The list items take the affinity of x, not their own
 * (expr.c exprINAffinity). An empty list is false even for a NULL x.
 */
function inList(expr: InList, row: RowContext): boolean | null {
  if (expr.items.length === 0) return false;
  const x = evaluate(expr.operand, row);
  if (x === null) return null;
  const affinity = affinityOf(expr.operand, row);
  let sawNull = false;
  for (const item of expr.items) {
    const v = evaluate(item, row);
    if (v === null) sawNull = true;
    else if (compare('=', x, v, affinity) === 1n) return true;
  }
  return sawNull ? null : false;
}

/** x BETWEEN low AND high is x >= low AND x <= high, with x evaluated once. */
function between(expr: Between, row: RowContext): boolean | null {
  const x = evaluate(expr.operand, row);
  const xAffinity = affinityOf(expr.operand, row);
  const low = evaluate(expr.low, row);
  const lowAffinity = comparisonAffinity(xAffinity, affinityOf(expr.low, row));
  const aboveLow = truthOf(compare('>=', x, low, lowAffinity));
  if (aboveLow === false) return false;
  const high = evaluate(expr.high, row);
  const highAffinity = comparisonAffinity(xAffinity, affinityOf(expr.high, row));
  const belowHigh = truthOf(compare('<=', x, high, highAffinity));
  if (belowHigh === false) return false;
  return aboveLow === null || belowHigh === null ? null : true;
}

/** CASE: the first WHEN that is true (or, with an operand, equal to it) gives its THEN; else ELSE or NULL. */
function evaluateCase(expr: Case, row: RowContext): SqlValue {
  const operand = expr.operand === null ? null : { expr: expr.operand, value: evaluate(expr.operand, row) };
  for (const { when, then } of expr.whens) {
    const hit =
      operand === null
        ? truthOf(evaluate(when, row)) === true
        : compare('=', operand.value, evaluate(when, row), comparisonAffinity(affinityOf(operand.expr, row), affinityOf(when, row))) === 1n;
    if (hit) return evaluate(then, row);
  }
  return expr.otherwise === null ? null : evaluate(expr.otherwise, row);
}

function not(b: boolean | null): boolean | null {
  return b === null ? null : !b;
}

function xor(b: boolean | null, invert: boolean): boolean | null {
  return invert ? not(b) : b;
}
