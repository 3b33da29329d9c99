import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ColumnRef, Expr } from '../index.js';
import { parseStatements, parseStatement, SqlError } from '../index.js';
import type { SqlValue } from '../codec/index.js';
import { storageClass } from '../codec/index.js';
import type { Affinity, RowContext } from './index.js';
import { affinityOfTypeName, evaluate, realToText } from './index.js';

/** The first result expression of `SELECT <sql>`. */
function parseExpr(sql: string): Expr {
  const s = parseStatement(`SELECT ${sql}`);
  if (s.kind !== 'Select' || s.columns[0].kind !== 'ExprColumn') throw new Error(`not an expression: ${sql}`);
  return s.columns[0].expr;
}

/** SELECT without FROM: no columns, so a double-quoted name is a string, as in SQLite. */
const noRow: RowContext = {
  column: (ref: ColumnRef) => {
    if (ref.doubleQuoted) return ref.column;
    throw new SqlError(`no such column: ${ref.column}`);
  },
  columnAffinity: () => 'NONE',
  parameter: () => null,
  aggregate: () => {
    throw new Error('no aggregates here');
  },
};

/** SQLite's quote(), except for REALs (see expectValue). */
function quote(v: SqlValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return realToText(v);
  if (typeof v === 'string') return `'${v.replaceAll("'", "''")}'`;
  return `X'${Buffer.from(v).toString('hex').toUpperCase()}'`;
}

/**
 * quote() writes a REAL whose 15-digit text does not read back as the same
 * double with 20 significant digits from an 80-bit long double ("3.00000000000000044408e-01"),
 * whose last digits need not be exact; such a REAL is compared by value.
 */
function expectValue(actual: SqlValue, quoted: string, type: string): void {
  expect(storageClass(actual)).toBe(type);
  if (typeof actual === 'number' && /^-?\d\.\d{16,}e[+-]\d+$/.test(quoted)) expect(actual).toBe(Number(quoted));
  else expect(quote(actual)).toBe(quoted);
}

type Case = { expr: string; expected: string; type: string };

type Fixture = { cases: Case[]; setup: string | null };

function loadFixture(name: string): Fixture {
  const lines = readFileSync(new URL(`testdata/${name}`, import.meta.url), 'utf8').split('\n');
  const setup = lines.find((line) => line.startsWith('# setup: '))?.slice('# setup: '.length) ?? null;
  const cases = lines
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [expr, expected, type] = line.split('\t');
      return { expr, expected, type };
    });
  return { cases, setup };
}

/**
 * The one row of the fixture's `CREATE TABLE t (…); INSERT INTO t VALUES (…)`:
 * each column's value and the affinity of its declared type.
 */
function rowOf(setup: string): RowContext {
  const [create, insert] = parseStatements(setup);
  if (create.kind !== 'CreateTable' || insert.kind !== 'Insert' || insert.source.kind !== 'Values') throw new Error(`unexpected setup: ${setup}`);
  const values = insert.source.rows[0];
  const columns = new Map<string, { value: SqlValue; affinity: Affinity }>(
    create.columns.map((c, i) => [c.name, { value: evaluate(values[i], noRow), affinity: affinityOfTypeName(c.type?.name ?? null) }]),
  );
  const find = (ref: ColumnRef) => columns.get(ref.column) ?? { value: noRow.column(ref), affinity: noRow.columnAffinity(ref) };
  return { ...noRow, column: (ref) => find(ref).value, columnAffinity: (ref) => find(ref).affinity };
}

function check(row: RowContext, { expr, expected, type }: Case): void {
  const tree = parseExpr(expr);
  if (expected === 'error') {
    expect(() => evaluate(tree, row)).toThrow(new SqlError(type));
    return;
  }
  expectValue(evaluate(tree, row), expected, type);
}

describe('evaluate agrees with sqlite3 (testdata/expressions.txt)', () => {
  it.each(loadFixture('expressions.txt').cases)('$expr', (c) => check(noRow, c));
});

describe('random expressions agree with sqlite3 (testdata/random.txt, seed in its header)', () => {
  it.each(loadFixture('random.txt').cases)('$expr', (c) => check(noRow, c));
});

describe('comparisons apply column affinity as sqlite3 does (testdata/column-affinity.txt)', () => {
  const { cases, setup } = loadFixture('column-affinity.txt');
  const row = rowOf(setup ?? '');
  it.each(cases)('$expr', (c) => check(row, c));
});

describe('realToText', () => {
  it.each([
    [1, '1.0'],
    [0.1, '0.1'],
    [1e20, '1.0e+20'],
    [1.5e-7, '1.5e-07'],
    [-0, '0.0'],
    [1e100, '1.0e+100'],
    [123456789012345680000, '1.23456789012346e+20'],
    [Infinity, 'Inf'],
  ])('%d is %s', (r, text) => {
    expect(realToText(r)).toBe(text);
  });
});

describe('affinityOfTypeName (datatype3 §3.1)', () => {
  it.each([
    ['INTEGER', 'INTEGER'],
    ['TINYINT', 'INTEGER'],
    ['CHARINT', 'INTEGER'],
    ['VARCHAR', 'TEXT'],
    ['NATIVE CHARACTER', 'TEXT'],
    ['CLOB', 'TEXT'],
    ['BLOB', 'BLOB'],
    ['REAL', 'REAL'],
    ['DOUBLE PRECISION', 'REAL'],
    ['FLOAT', 'REAL'],
    ['REALBLOB', 'BLOB'],
    ['NUMERIC', 'NUMERIC'],
    ['DECIMAL', 'NUMERIC'],
    ['BOOLEAN', 'NUMERIC'],
    ['DATETIME', 'NUMERIC'],
    ['STRING', 'NUMERIC'],
  ])('%s has %s affinity', (name, affinity) => {
    expect(affinityOfTypeName(name)).toBe(affinity);
  });

  it('a column without a type has BLOB affinity', () => {
    expect(affinityOfTypeName(null)).toBe('BLOB');
  });
});
