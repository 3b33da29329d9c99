import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DbError } from '../common/index.js';
import { parseStatement, parseStatements, SqlError } from './index.js';

const params = { seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined, numRuns: 2000 };

/** The SqlError message parsing `sql` gives (anything else thrown fails the test). */
function errorOf(sql: string): string {
  try {
    parseStatements(sql);
  } catch (e) {
    if (e instanceof SqlError) return e.message;
    throw e;
  }
  throw new Error(`parsed: ${sql}`);
}

const TOO_DEEP = 'Expression tree is too large (maximum depth 1000)';

describe('syntax errors, worded as SQLite words them', () => {
  it.each([
    ['SELEC 1', 'near "SELEC": syntax error'],
    ['SELECT * FROM;', 'near ";": syntax error'],
    ['SELECT 1 a b', 'near "b": syntax error'],
    ['SELECT 1 2', 'near "2": syntax error'],
    ['SELECT ,', 'near ",": syntax error'],
    ['SELECT f(1,)', 'near ")": syntax error'],
    ['SELECT a NOT b', 'near "b": syntax error'],
    ['SELECT x IN 5', 'near "5": syntax error'],
    ['SELECT count(DISTINCT *)', 'near "*": syntax error'],
    ['SELECT 1 ESCAPE 2', 'near "ESCAPE": syntax error'],
    ['SELECT a FROM t GROUP a', 'near "a": syntax error'],
    ['select a from t where from', 'near "from": syntax error'],
    ['SELECT 1; SELEC 2', 'near "SELEC": syntax error'],
    ['CREATE TABLE t (a, PRIMARY KEY (a), b)', 'near "b": syntax error'],
    ['CREATE TABLE t ()', 'near ")": syntax error'],
    ['INSERT OR FAIL INTO t VALUES (1)', 'near "FAIL": syntax error'],
    ['DROP SEQUENCE s', 'near "SEQUENCE": syntax error'],
    ['SELECT 1.5.5', 'near ".5": syntax error'],
    ['SELECT', 'incomplete input'],
    ['SELECT 1 FROM', 'incomplete input'],
    ['select 1 from t where', 'incomplete input'],
    ['SELECT (1', 'incomplete input'],
    ['SELECT ~', 'incomplete input'],
    ['SELECT 1 IS', 'incomplete input'],
    ['SELECT CASE END', 'incomplete input'], // END is read as a column name, as in SQLite,
    ['INSERT INTO t VALUES', 'incomplete input'],
    ['UPDATE t SET a', 'incomplete input'],
    ['SELECT a FROM t ORDER BY', 'incomplete input'],
    ['SELECT a BETWEEN 1', 'incomplete input'],
  ])('%s', (sql, message) => {
    expect(errorOf(sql)).toBe(message);
  });

  it('parseStatement takes one statement', () => {
    expect(() => parseStatement('SELECT 1; SELECT 2')).toThrow('near "SELECT": syntax error');
    expect(() => parseStatement(' ; -- empty')).toThrow('incomplete input');
  });

  it('is a DbError with code BAD_REQUEST', () => {
    const e = (() => {
      try {
        parseStatement('SELECT');
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(SqlError);
    expect(e).toBeInstanceOf(DbError);
    expect((e as SqlError).code).toBe('BAD_REQUEST');
  });
});

describe('unrecognized tokens', () => {
  it.each([
    ['SELECT #', '#'],
    ["SELECT 'abc", "'abc"],
    ['SELECT "abc', '"abc'],
    ['SELECT [abc', '[abc'],
    ['SELECT `abc', '`abc'],
    ['SELECT 12abc', '12abc'],
    ['SELECT 1a', '1a'],
    ['SELECT 0x', '0x'],
    ['SELECT 1e', '1e'],
    ['SELECT 1e+', '1e'],
    ['SELECT :', ':'],
    ['SELECT @', '@'],
    ['SELECT $', '$'],
    ['SELECT !', '!'],
    ["SELECT x'ABC'", "x'ABC'"],
    ["SELECT x'zz'", "x'zz'"],
    ["SELECT x'AB", "x'AB"],
  ])('%s', (sql, token) => {
    expect(errorOf(sql)).toBe(`unrecognized token: "${token}"`);
  });

  it.each([
    ['SELECT 0x10000000000000000', 'hex literal too big: 0x10000000000000000'],
    ['SELECT ?0', 'variable number must be between ?1 and ?32766'],
    ['SELECT ?32767', 'variable number must be between ?1 and ?32766'],
  ])('%s', (sql, message) => {
    expect(errorOf(sql)).toBe(message);
  });
});

describe('constructs the dialect leaves out', () => {
  it.each([
    ['SELECT (SELECT 1)', 'subqueries are not supported'],
    ['SELECT a FROM t WHERE a IN (SELECT b FROM u)', 'subqueries are not supported'],
    ['SELECT EXISTS (SELECT 1)', 'subqueries are not supported'],
    ['SELECT * FROM (SELECT 1)', 'subqueries are not supported'],
    ['SELECT a FROM t WHERE a = (VALUES (1))', 'subqueries are not supported'],
    ['WITH x AS (SELECT 1) SELECT * FROM x', 'common table expressions are not supported'],
    ['SELECT row_number() OVER (ORDER BY a) FROM t', 'window functions are not supported'],
    ['SELECT sum(a) OVER w FROM t', 'window functions are not supported'],
    ['SELECT 1 UNION SELECT 2', 'compound SELECTs are not supported'],
    ['INSERT INTO t SELECT 1 EXCEPT SELECT 2', 'compound SELECTs are not supported'],
    ['SELECT 1 IN t1', 'subqueries are not supported'],
    ['CREATE VIEW v AS SELECT 1', 'views are not supported'],
    ['CREATE TEMP VIEW v AS SELECT 1', 'views are not supported'],
    ['DROP VIEW v', 'views are not supported'],
    ['CREATE TRIGGER r UPDATE ON t BEGIN SELECT 1; END', 'triggers are not supported'],
    ['DROP TRIGGER r', 'triggers are not supported'],
    ['REINDEX i', 'REINDEX statements are not supported'],
    ['SELECT * FROM t NOT INDEXED', 'INDEXED BY and NOT INDEXED clauses are not supported'],
    ['SELECT * FROM t AS x INDEXED BY i', 'INDEXED BY and NOT INDEXED clauses are not supported'],
    ['SELECT (1, 2)', 'row values are not supported'],
  ])('%s', (sql, message) => {
    expect(errorOf(sql)).toBe(message);
  });

  it('reads OVER without a window as an alias', () => {
    const s = parseStatement('SELECT count(*) over FROM t');
    expect(s.kind === 'Select' && s.columns[0].kind === 'ExprColumn' && s.columns[0].alias).toBe('over');
  });
});

describe('depth and size limits', () => {
  const nested = (n: number, open: string, leaf: string, close: string) => open.repeat(n) + leaf + close.repeat(n);

  it.each([
    ['parentheses', nested(5000, '(', '1', ')')],
    ['minus over parentheses', nested(5000, '-(', '1', ')')],
    ['prefix minus', nested(5000, '- ', '1', '')],
    ['NOT', nested(5000, 'NOT ', '1', '')],
    ['function calls', nested(5000, 'f(', '1', ')')],
    ['CASE', nested(5000, 'CASE WHEN 1 THEN ', '1', ' END')],
    ['a left-leaning chain of +', Array(5000).fill('1').join('+')],
    ['a chain of AND and OR', Array(5000).fill('a').join(' AND b OR ')],
    ['a chain of IS NULL', `1${' IS NULL'.repeat(5000)}`],
    ['unclosed parentheses', '('.repeat(100_000)],
  ])('%s, thousands deep: the SQLite error, never a stack overflow', (_name, expr) => {
    expect(errorOf(`SELECT ${expr}`)).toBe(TOO_DEEP);
  });

  it('allows a tree up to SQLite limit of 1000', () => {
    expect(() => parseStatement(`SELECT ${Array(1000).fill('1').join('+')}`)).not.toThrow();
    expect(errorOf(`SELECT ${Array(1001).fill('1').join('+')}`)).toBe(TOO_DEEP);
    expect(() => parseStatement(`SELECT ${nested(998, '(', '1', ')')}`)).not.toThrow();
    expect(() => parseStatement(`SELECT ${nested(998, '- ', '1', '')}`)).not.toThrow();
    expect(() => parseStatement(`SELECT ${nested(998, 'f(', '1', ')')}`)).not.toThrow();
    expect(() => parseStatement(`SELECT ${nested(998, 'CASE WHEN 1 THEN ', '1', ' END')}`)).not.toThrow();
  });

  it('parses a 50,000-item IN list and a 50,000-row VALUES', () => {
    const items = Array.from({ length: 50_000 }, (_, i) => String(i));
    const inList = parseStatement(`SELECT * FROM t WHERE a IN (${items.join(', ')})`);
    expect(inList.kind === 'Select' && inList.where?.kind === 'InList' && inList.where.items.length).toBe(50_000);
    const rows = items.map((i) => `(${i}, 'x', ?)`).join(', ');
    const insert = parseStatement(`INSERT INTO t VALUES ${rows}`);
    expect(insert.kind === 'Insert' && insert.source.kind === 'Values' && insert.source.rows.length).toBe(50_000);
    const select = parseStatement(`SELECT ${items.join(', ')}`);
    expect(select.kind === 'Select' && select.columns.length).toBe(50_000);
  });
});

describe('any input', () => {
  const fragments = ['SELECT', 'FROM', 't', 'a', '(', ')', ',', '*', '+', '-', 'NOT', 'IN', 'IS', 'NULL', 'AND', 'CASE', 'WHEN', 'THEN', 'END', "'s'", '1', '?', ':p', ';', 'JOIN', 'ON', 'INSERT', 'INTO', 'VALUES', 'BETWEEN', 'LIKE', '"q"', '.', 'CAST', 'AS', 'INT'];

  it('parses or throws a SqlError, nothing else', () => {
    const parsesOrSqlError = (sql: string) => {
      try {
        parseStatements(sql);
      } catch (e) {
        if (!(e instanceof SqlError)) throw e;
      }
    };
    fc.assert(fc.property(fc.string({ maxLength: 60 }), parsesOrSqlError), params);
    fc.assert(fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 30 }), (parts) => parsesOrSqlError(parts.join(' '))), params);
  });
});
