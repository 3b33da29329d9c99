import { describe, expect, it } from 'vitest';
import { toSexpr } from '../../test/support/sql-sexpr.js';
import type { Expr } from './index.js';
import { parseStatement } from './index.js';

/** The first result expression of `SELECT <sql>`. */
function parseExpr(sql: string): Expr {
  const s = parseStatement(`SELECT ${sql}`);
  if (s.kind !== 'Select' || s.columns[0].kind !== 'ExprColumn') throw new Error(`not an expression: ${sql}`);
  return s.columns[0].expr;
}

const sexpr = (sql: string) => toSexpr(parseExpr(sql));

describe('literals', () => {
  it.each([
    ['42', '42'],
    ['0', '0'],
    ['0x1F', '31'],
    ['0XfF', '255'],
    ['0x7FFFFFFFFFFFFFFF', '9223372036854775807'],
    ['0xFFFFFFFFFFFFFFFF', '-1'], // two's complement, as in SQLite
    ['0x00000000000000001', '1'], // leading zeros are not significant
    ['9223372036854775807', '9223372036854775807'],
    ['9223372036854775808', '9223372036854776000.0'], // past int64: a real (2^63)
    ['-9223372036854775808', '-9223372036854775808'], // SQLite's special case: still an integer
    ['1.5', '1.5'],
    ['.5', '0.5'],
    ['5.', '5.0'],
    ['1e5', '100000.0'],
    ['1E-2', '0.01'],
    ['2.5e+3', '2500.0'],
    ["'it''s'", "'it''s'"],
    ["''", "''"],
    ["X'0aFF'", "X'0aFF'"],
    ["x''", "X''"],
    ['NULL', 'NULL'],
    ['null', 'NULL'],
    ['TRUE', 'TRUE'],
    ['false', 'FALSE'],
  ])('%s', (sql, expected) => {
    expect(sexpr(sql)).toBe(expected);
  });

  it('keeps integers exact as bigint', () => {
    expect(parseExpr('9007199254740993')).toEqual({ kind: 'IntegerLiteral', value: 9007199254740993n });
  });
});

describe('names', () => {
  it.each([
    ['a', 'a'],
    ['t.a', 't.a'],
    ['"a b"', '"a b"'],
    ['"t"."a"', 't.a'], // a qualified name is never a string
    ['[order]', 'order'],
    ['`select`', 'select'],
    ['"say ""hi"""', '"say "hi""'],
    ['key', 'key'], // a keyword SQLite lets be a name
    ['MixedCase', 'MixedCase'],
  ])('%s', (sql, expected) => {
    expect(sexpr(sql)).toBe(expected);
  });

  it('flags an unqualified double-quoted name, which SQLite may read as a string', () => {
    expect(parseExpr('"x"')).toEqual({ kind: 'ColumnRef', table: null, column: 'x', doubleQuoted: true });
    expect(parseExpr('[x]')).toEqual({ kind: 'ColumnRef', table: null, column: 'x', doubleQuoted: false });
  });
});

describe('operators and SQLite precedence', () => {
  it.each([
    // every binary operator
    ["'a' || 'b'", "(|| 'a' 'b')"],
    ['a * b', '(* a b)'],
    ['a / b', '(/ a b)'],
    ['a % b', '(% a b)'],
    ['a + b', '(+ a b)'],
    ['a - b', '(- a b)'],
    ['a << b', '(<< a b)'],
    ['a >> b', '(>> a b)'],
    ['a & b', '(& a b)'],
    ['a | b', '(| a b)'],
    ['a < b', '(< a b)'],
    ['a <= b', '(<= a b)'],
    ['a > b', '(> a b)'],
    ['a >= b', '(>= a b)'],
    ['a = b', '(= a b)'],
    ['a == b', '(= a b)'],
    ['a != b', '(!= a b)'],
    ['a <> b', '(!= a b)'],
    ['a IS b', '(IS a b)'],
    ['a IS NOT b', '(IS NOT a b)'],
    ['a AND b', '(AND a b)'],
    ['a OR b', '(OR a b)'],
    // unary operators
    ['-a', '(- a)'],
    ['+a', '(+ a)'],
    ['~a', '(~ a)'],
    ['NOT a', '(NOT a)'],
    ['- - a', '(- (- a))'],
    ['NOT NOT a', '(NOT (NOT a))'],
    // postfix and special forms
    ['a IS NULL', '(ISNULL a)'],
    ['a IS NOT NULL', '(NOTNULL a)'],
    ['a ISNULL', '(ISNULL a)'],
    ['a NOTNULL', '(NOTNULL a)'],
    ['a NOT NULL', '(NOTNULL a)'],
    ['a IN (1, 2, 3)', '(IN a [1 2 3])'],
    ['a NOT IN (1)', '(NOT IN a [1])'],
    ['a IN ()', '(IN a [])'],
    ['a BETWEEN 1 AND 2', '(BETWEEN a 1 2)'],
    ['a NOT BETWEEN 1 AND 2', '(NOT BETWEEN a 1 2)'],
    ["a LIKE 'x%'", "(LIKE a 'x%')"],
    ["a NOT LIKE 'x%'", "(NOT LIKE a 'x%')"],
    ["a LIKE 'x!%' ESCAPE '!'", "(LIKE a 'x!%' ESCAPE '!')"],
    // levels, tightest first: || ; * / % ; + - ; << >> & | ; < <= > >= ; = IS IN LIKE BETWEEN ; NOT ; AND ; OR
    ["a || b * c", '(* (|| a b) c)'],
    ['a * b || c', '(* a (|| b c))'],
    ['a + b * c', '(+ a (* b c))'],
    ['a * b + c', '(+ (* a b) c)'],
    ['a & b + c', '(& a (+ b c))'],
    ['a + b << c', '(<< (+ a b) c)'],
    ['a | b & c', '(& (| a b) c)'], // one level, left to right
    ['a << b >> c', '(>> (<< a b) c)'],
    ['a < b & c', '(< a (& b c))'],
    ['a = b < c', '(= a (< b c))'],
    ['a < b = c', '(= (< a b) c)'],
    ['a = b = c', '(= (= a b) c)'],
    ['a IS b = c', '(= (IS a b) c)'],
    ['a IN (1) = b', '(= (IN a [1]) b)'],
    ['a = b IN (1)', '(IN (= a b) [1])'],
    ['a BETWEEN 1 AND 2 = b', '(= (BETWEEN a 1 2) b)'],
    ['a BETWEEN b + 1 AND c * 2', '(BETWEEN a (+ b 1) (* c 2))'],
    ['a BETWEEN 1 AND 2 AND b', '(AND (BETWEEN a 1 2) b)'],
    ["a LIKE b || 'x'", "(LIKE a (|| b 'x'))"],
    ['a IS NULL = 0', '(= (ISNULL a) 0)'],
    ['a IS NULL + 1', '(IS a (+ NULL 1))'], // only a bare NULL makes IS NULL, as in SQLite
    ['NOT a = b', '(NOT (= a b))'],
    ['NOT a AND b', '(AND (NOT a) b)'],
    ['a = NOT b = c', '(= a (NOT (= b c)))'],
    ['a AND b OR c', '(OR (AND a b) c)'],
    ['a OR b AND c', '(OR a (AND b c))'],
    ['a OR b OR c', '(OR (OR a b) c)'],
    ['a - b - c', '(- (- a b) c)'],
    ['a / b / c', '(/ (/ a b) c)'],
    // unary binds tighter than any binary operator
    ['-a * b', '(* (- a) b)'],
    ['-a || b', '(|| (- a) b)'],
    ['~a + b', '(+ (~ a) b)'],
    ['- 1 + 2', '(+ (- 1) 2)'],
    ['a - -b', '(- a (- b))'],
    ['(a + b) * c', '(* (+ a b) c)'],
    ['((a))', 'a'],
  ])('%s', (sql, expected) => {
    expect(sexpr(sql)).toBe(expected);
  });
});

describe('CASE, CAST and function calls', () => {
  it.each([
    ['CASE WHEN a THEN 1 END', '(CASE (WHEN a 1))'],
    ["CASE a WHEN 1 THEN 'x' WHEN 2 THEN 'y' ELSE 'z' END", "(CASE a (WHEN 1 'x') (WHEN 2 'y') (ELSE 'z'))"],
    ['CASE WHEN a > 1 THEN b + 1 ELSE NULL END', '(CASE (WHEN (> a 1) (+ b 1)) (ELSE NULL))'],
    ['CAST(a AS INTEGER)', '(CAST a INTEGER)'],
    ['CAST(a + 1 AS VARCHAR(10))', '(CAST (+ a 1) VARCHAR(10))'],
    ['CAST(a AS DOUBLE PRECISION)', '(CAST a DOUBLE PRECISION)'],
    ['CAST(a AS DECIMAL(10, -2))', '(CAST a DECIMAL(10, -2))'],
    ['count(*)', '(count *)'],
    ['COUNT(DISTINCT a)', '(COUNT DISTINCT a)'],
    ['sum(ALL a)', '(sum a)'],
    ['coalesce(a, b, 0)', '(coalesce a b 0)'],
    ['random()', '(random)'],
    ['lower(substr(a, 1, 2)) || upper(b)', '(|| (lower (substr a 1 2)) (upper b))'],
    ['replace(a, 1, 2)', '(replace a 1 2)'], // REPLACE is also a statement keyword
    ['"quoted"(a)', '(quoted a)'],
  ])('%s', (sql, expected) => {
    expect(sexpr(sql)).toBe(expected);
  });

  it('records the type as written and as words', () => {
    const e = parseExpr('CAST(x AS  unsigned   big int(8))');
    expect(e.kind === 'Cast' && e.type).toEqual({ kind: 'TypeName', name: 'unsigned big int', text: 'unsigned   big int(8)' });
  });
});

describe('parameters', () => {
  const params = (sql: string) => {
    const s = parseStatement(sql);
    if (s.kind !== 'Select') throw new Error('not a SELECT');
    return s.columns.map((c) => (c.kind === 'ExprColumn' ? toSexpr(c.expr) : '*')).join(' ');
  };

  it.each([
    ['SELECT ?', '?1'],
    ['SELECT ?, ?, ?', '?1 ?2 ?3'],
    ['SELECT ?5, ?', '?5 ?6'], // ? takes the largest number so far + 1, as in SQLite
    ['SELECT ?2, ?1, ?', '?2 ?1 ?3'],
    ['SELECT :a, @b, $c', ':a#1 @b#2 $c#3'],
    ['SELECT :a, :b, :a', ':a#1 :b#2 :a#1'], // a name keeps its number
    ['SELECT :a, ?, :a', ':a#1 ?2 :a#1'],
    ['SELECT $long_name_2', '$long_name_2#1'],
  ])('%s', (sql, expected) => {
    expect(params(sql)).toBe(expected);
  });

  it('numbers each statement on its own', () => {
    const [first, second] = [parseStatement('SELECT ?, ?'), parseStatement('SELECT ?')];
    expect(toSexpr(first)).toContain('?2');
    expect(toSexpr(second)).toContain('?1');
  });
});
