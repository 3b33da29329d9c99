/**
 * The core functions of the dialect (https://www.sqlite.org/lang_corefunc.html)
 * and which names are aggregates. Names are case-insensitive; errors quote
 * the name as written, as SQLite does.
 */
import type { FunctionCall } from '../ast.js';
import type { SqlValue } from '../codec/index.js';
import { compareValues, INT64_MIN, storageClass } from '../codec/index.js';
import { SqlError } from '../errors.js';
import { toInt32, toReal } from './coerce.js';
import { roundReal } from './round.js';
import { textOf, untilNul } from './text.js';

/** A call's arguments, each evaluated when read, so coalesce and ifnull stop at the first non-NULL. */
export interface Arguments {
  readonly length: number;
  get(index: number): SqlValue;
}

interface ScalarFunction {
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly call: (args: Arguments) => SqlValue;
}

const MANY = Infinity;
/** SQLITE_LIMIT_LENGTH: substr's length when none is given. */
const MAX_LENGTH = 1_000_000_000;

const SCALAR_FUNCTIONS: ReadonlyMap<string, ScalarFunction> = new Map([
  ['abs', { minArgs: 1, maxArgs: 1, call: (a: Arguments) => abs(a.get(0)) }],
  ['coalesce', { minArgs: 2, maxArgs: MANY, call: firstNotNull }],
  ['ifnull', { minArgs: 2, maxArgs: 2, call: firstNotNull }],
  ['nullif', { minArgs: 2, maxArgs: 2, call: (a: Arguments) => nullif(a.get(0), a.get(1)) }],
  ['length', { minArgs: 1, maxArgs: 1, call: (a: Arguments) => length(a.get(0)) }],
  ['lower', { minArgs: 1, maxArgs: 1, call: (a: Arguments) => mapText(a.get(0), (t) => t.replace(/[A-Z]+/g, (s) => s.toLowerCase())) }],
  ['upper', { minArgs: 1, maxArgs: 1, call: (a: Arguments) => mapText(a.get(0), (t) => t.replace(/[a-z]+/g, (s) => s.toUpperCase())) }],
  ['substr', { minArgs: 2, maxArgs: 3, call: substr }],
  ['substring', { minArgs: 2, maxArgs: 3, call: substr }],
  ['round', { minArgs: 1, maxArgs: 2, call: round }],
  ['typeof', { minArgs: 1, maxArgs: 1, call: (a: Arguments) => storageClass(a.get(0)) }],
  // With two or more arguments min and max are scalar; with one they are aggregates.
  ['min', { minArgs: 2, maxArgs: MANY, call: (a: Arguments) => extreme(a, 'min') }],
  ['max', { minArgs: 2, maxArgs: MANY, call: (a: Arguments) => extreme(a, 'max') }],
]);

/** Aggregates and how many arguments each takes; `count(*)` counts as none. */
const AGGREGATE_ARITY: ReadonlyMap<string, readonly [number, number]> = new Map([
  ['count', [0, 1]],
  ['sum', [1, 1]],
  ['total', [1, 1]],
  ['avg', [1, 1]],
  ['min', [1, 1]],
  ['max', [1, 1]],
]);

/** Whether a call is an aggregate (the caller computes those); throws SQLite's error for a bad call. */
export function isAggregateCall(call: FunctionCall): boolean {
  const name = call.name.toLowerCase();
  const argc = call.args.length;
  const aggregate = AGGREGATE_ARITY.get(name);
  if (aggregate !== undefined && argc >= aggregate[0] && argc <= aggregate[1] && (!call.star || name === 'count')) return true;
  const scalar = SCALAR_FUNCTIONS.get(name);
  if (scalar === undefined && aggregate === undefined) throw new SqlError(`no such function: ${call.name}`);
  if (scalar === undefined || call.star || argc < scalar.minArgs || argc > scalar.maxArgs) {
    throw new SqlError(`wrong number of arguments to function ${call.name}()`);
  }
  return false;
}

/** Calls a scalar function (one isAggregateCall accepted and found not aggregate). */
export function callScalar(call: FunctionCall, args: Arguments): SqlValue {
  const fn = SCALAR_FUNCTIONS.get(call.name.toLowerCase());
  if (fn === undefined) throw new SqlError(`no such function: ${call.name}`);
  return fn.call(args);
}

function abs(v: SqlValue): SqlValue {
  if (v === null) return null;
  if (typeof v === 'bigint') {
    if (v === INT64_MIN) throw new SqlError('integer overflow');
    return v < 0n ? -v : v;
  }
  // Anything else is read as a REAL: abs('-5') is 5.0, abs('x') 0.0.
  return Math.abs(toReal(v));
}

function firstNotNull(args: Arguments): SqlValue {
  for (let i = 0; i < args.length; i++) {
    const v = args.get(i);
    if (v !== null) return v;
  }
  return null;
}

function nullif(a: SqlValue, b: SqlValue): SqlValue {
  return compareValues(a, b) === 0 ? null : a;
}

/** Characters of a text (up to a NUL, as SQLite's C strings), bytes of a BLOB, characters of a number's text. */
function length(v: SqlValue): SqlValue {
  if (v === null) return null;
  if (v instanceof Uint8Array) return BigInt(v.length);
  return BigInt([...untilNul(textOf(v) ?? '')].length);
}

function mapText(v: SqlValue, f: (text: string) => string): SqlValue {
  const text = textOf(v);
  return text === null ? null : f(text);
}

/**
 * substr(X, Y[, Z]) (func.c substrFunc): Y is 1-based, a negative Y counts
 * from the end, Y = 0 stands before the first character (so it eats one of
 * the Z), a negative Z takes the characters before Y. Characters for a
 * text, bytes for a BLOB.
 */
function substr(args: Arguments): SqlValue {
  const x = args.get(0);
  const y = args.get(1);
  const z = args.length === 3 ? args.get(2) : BigInt(MAX_LENGTH);
  if (x === null || y === null || z === null) return null;
  if (x instanceof Uint8Array) {
    const [start, count] = substrRange(x.length, toInt32(y), toInt32(z));
    return x.slice(start, start + count);
  }
  const chars = [...untilNul(textOf(x) ?? '')];
  const [start, count] = substrRange(chars.length, toInt32(y), toInt32(z));
  return chars.slice(start, start + count).join('');
}

/** substr's 0-based start and count within `length` units. */
function substrRange(length: number, y: number, z: number): [number, number] {
  let start = y;
  let count = Math.abs(z);
  if (start < 0) {
    start += length;
    if (start < 0) {
      count = Math.max(count + start, 0);
      start = 0;
    }
  } else if (start > 0) {
    start--;
  } else if (count > 0) {
    count--;
  }
  if (z < 0) {
    start -= count;
    if (start < 0) {
      count += start;
      start = 0;
    }
  }
  return [start, Math.max(count, 0)];
}

/** round(X[, N]): always a REAL; N is clamped to 0..30. */
function round(args: Arguments): SqlValue {
  let decimals = 0;
  if (args.length === 2) {
    const n = args.get(1);
    if (n === null) return null;
    decimals = Math.min(Math.max(toInt32(n), 0), 30);
  }
  const x = args.get(0);
  return x === null ? null : roundReal(toReal(x), decimals);
}

/**
 * Scalar min/max: NULL if any argument is NULL. Between equal values max
 * keeps the first and min the last, as SQLite's minmaxFunc does.
 */
function extreme(args: Arguments, which: 'min' | 'max'): SqlValue {
  let best: SqlValue = null;
  for (let i = 0; i < args.length; i++) {
    const v = args.get(i);
    if (v === null) return null;
    const c = i === 0 ? 0 : compareValues(best, v);
    if (i === 0 || (which === 'max' ? c < 0 : c >= 0)) best = v;
  }
  return best;
}
