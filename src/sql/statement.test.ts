import { describe, expect, it } from 'vitest';
import { toSexpr } from '../../test/support/sql-sexpr.js';
import { parseStatement, parseStatements } from './index.js';

const sexpr = (sql: string) => toSexpr(parseStatement(sql));

describe('CREATE TABLE', () => {
  it.each([
    ['CREATE TABLE t (a)', '(CreateTable name="t" columns=[(ColumnDef name="a")])'],
    ['create table if not exists t (a INTEGER)', '(CreateTable ifNotExists=true name="t" columns=[(ColumnDef name="a" type=(TypeName name="INTEGER" text="INTEGER"))])'],
    [
      'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INT DEFAULT 0)',
      '(CreateTable name="t" columns=[(ColumnDef name="id" type=(TypeName name="INTEGER" text="INTEGER") constraints=[(PrimaryKeyConstraint)]) ' +
        '(ColumnDef name="name" type=(TypeName name="TEXT" text="TEXT") constraints=[(NotNullConstraint) (UniqueConstraint)]) ' +
        '(ColumnDef name="n" type=(TypeName name="INT" text="INT") constraints=[(DefaultConstraint value=0)])])',
    ],
    [
      'CREATE TABLE t (id INTEGER PRIMARY KEY DESC AUTOINCREMENT)',
      '(CreateTable name="t" columns=[(ColumnDef name="id" type=(TypeName name="INTEGER" text="INTEGER") constraints=[(PrimaryKeyConstraint order="DESC" autoincrement=true)])])',
    ],
    [
      'CREATE TABLE t (a VARCHAR(255), b CHAR(1), c DECIMAL(10,2), d DOUBLE PRECISION, e REAL, f FLOAT, g BOOLEAN)',
      '(CreateTable name="t" columns=[(ColumnDef name="a" type=(TypeName name="VARCHAR" text="VARCHAR(255)")) ' +
        '(ColumnDef name="b" type=(TypeName name="CHAR" text="CHAR(1)")) (ColumnDef name="c" type=(TypeName name="DECIMAL" text="DECIMAL(10,2)")) ' +
        '(ColumnDef name="d" type=(TypeName name="DOUBLE PRECISION" text="DOUBLE PRECISION")) (ColumnDef name="e" type=(TypeName name="REAL" text="REAL")) ' +
        '(ColumnDef name="f" type=(TypeName name="FLOAT" text="FLOAT")) (ColumnDef name="g" type=(TypeName name="BOOLEAN" text="BOOLEAN"))])',
    ],
    [
      "CREATE TABLE t (a DEFAULT -1, b DEFAULT +2.5, c DEFAULT 'x', d DEFAULT NULL, e DEFAULT (1 + 2), f DEFAULT TRUE, g DEFAULT X'00')",
      '(CreateTable name="t" columns=[(ColumnDef name="a" constraints=[(DefaultConstraint value=(- 1))]) ' +
        '(ColumnDef name="b" constraints=[(DefaultConstraint value=(+ 2.5))]) ' +
        "(ColumnDef name=\"c\" constraints=[(DefaultConstraint value='x')]) (ColumnDef name=\"d\" constraints=[(DefaultConstraint value=NULL)]) " +
        '(ColumnDef name="e" constraints=[(DefaultConstraint value=(+ 1 2))]) (ColumnDef name="f" constraints=[(DefaultConstraint value=TRUE)]) ' +
        "(ColumnDef name=\"g\" constraints=[(DefaultConstraint value=X'00')])])",
    ],
    [
      'CREATE TABLE t (a, b, c, PRIMARY KEY (a, b DESC), UNIQUE (c))',
      '(CreateTable name="t" columns=[(ColumnDef name="a") (ColumnDef name="b") (ColumnDef name="c")] ' +
        'constraints=[(TablePrimaryKey columns=[(IndexedColumn name="a") (IndexedColumn name="b" order="DESC")]) (TableUnique columns=[(IndexedColumn name="c")])])',
    ],
    ['CREATE TABLE "my table" ([key] text, `value` blob)', '(CreateTable name="my table" columns=[(ColumnDef name="key" type=(TypeName name="text" text="text")) (ColumnDef name="value" type=(TypeName name="blob" text="blob"))])'],
    ['CREATE TABLE if (key, value, type, date)', '(CreateTable name="if" columns=[(ColumnDef name="key") (ColumnDef name="value") (ColumnDef name="type") (ColumnDef name="date")])'],
  ])('%s', (sql, expected) => {
    expect(sexpr(sql)).toBe(expected);
  });
});

describe('DROP TABLE, CREATE INDEX, DROP INDEX', () => {
  it.each([
    ['DROP TABLE t', '(DropTable name="t")'],
    ['DROP TABLE IF EXISTS t', '(DropTable ifExists=true name="t")'],
    ['CREATE INDEX i ON t (a)', '(CreateIndex name="i" table="t" columns=[(IndexedColumn name="a")])'],
    [
      'CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a ASC, b DESC)',
      '(CreateIndex unique=true ifNotExists=true name="i" table="t" columns=[(IndexedColumn name="a" order="ASC") (IndexedColumn name="b" order="DESC")])',
    ],
    ['DROP INDEX i', '(DropIndex name="i")'],
    ['drop index if exists "i"', '(DropIndex ifExists=true name="i")'],
  ])('%s', (sql, expected) => {
    expect(sexpr(sql)).toBe(expected);
  });
});

describe('INSERT', () => {
  it.each([
    ['INSERT INTO t VALUES (1)', '(Insert onConflict="ABORT" table="t" source=(Values rows=[[1]]))'],
    ["INSERT INTO t (a, b) VALUES (1, 'x'), (?, :b)", "(Insert onConflict=\"ABORT\" table=\"t\" columns=[\"a\" \"b\"] source=(Values rows=[[1 'x'] [?1 :b#2]]))"],
    ['INSERT OR REPLACE INTO t VALUES (1)', '(Insert onConflict="REPLACE" table="t" source=(Values rows=[[1]]))'],
    ['INSERT OR IGNORE INTO t VALUES (1)', '(Insert onConflict="IGNORE" table="t" source=(Values rows=[[1]]))'],
    ['REPLACE INTO t VALUES (1)', '(Insert onConflict="REPLACE" table="t" source=(Values rows=[[1]]))'],
    [
      'INSERT INTO t (a) SELECT b FROM u WHERE c',
      '(Insert onConflict="ABORT" table="t" columns=["a"] source=(Select columns=[(ExprColumn expr=b text="b")] from=(TableRef name="u") where=c))',
    ],
  ])('%s', (sql, expected) => {
    expect(sexpr(sql)).toBe(expected);
  });
});

describe('SELECT', () => {
  it.each([
    ['SELECT 1', '(Select columns=[(ExprColumn expr=1 text="1")])'],
    ['SELECT * FROM t', '(Select columns=[(AllColumns)] from=(TableRef name="t"))'],
    ['SELECT t.*, "u".* FROM t, u', '(Select columns=[(AllColumns table="t") (AllColumns table="u")] from=(Join joinType="COMMA" left=(TableRef name="t") right=(TableRef name="u")))'],
    ['SELECT DISTINCT a FROM t', '(Select distinct=true columns=[(ExprColumn expr=a text="a")] from=(TableRef name="t"))'],
    ['SELECT ALL a FROM t', '(Select columns=[(ExprColumn expr=a text="a")] from=(TableRef name="t"))'],
    [
      "SELECT a AS x, b y, c + 1 AS 'z', d \"w\" FROM t",
      '(Select columns=[(ExprColumn expr=a alias="x" text="a") (ExprColumn expr=b alias="y" text="b") (ExprColumn expr=(+ c 1) alias="z" text="c + 1") ' +
        '(ExprColumn expr=d alias="w" text="d")] from=(TableRef name="t"))',
    ],
    ['SELECT a FROM t AS x', '(Select columns=[(ExprColumn expr=a text="a")] from=(TableRef name="t" alias="x"))'],
    ['SELECT a FROM t x', '(Select columns=[(ExprColumn expr=a text="a")] from=(TableRef name="t" alias="x"))'],
    [
      'SELECT a FROM t CROSS JOIN u',
      '(Select columns=[(ExprColumn expr=a text="a")] from=(Join joinType="CROSS" left=(TableRef name="t") right=(TableRef name="u")))',
    ],
    [
      'SELECT * FROM a JOIN b ON a.id = b.id INNER JOIN c ON c.id = b.id LEFT JOIN d ON d.id = a.id LEFT OUTER JOIN e x ON x.id = 1',
      '(Select columns=[(AllColumns)] from=(Join joinType="LEFT" left=(Join joinType="LEFT" left=(Join joinType="INNER" ' +
        'left=(Join joinType="INNER" left=(TableRef name="a") right=(TableRef name="b") on=(= a.id b.id)) right=(TableRef name="c") on=(= c.id b.id)) ' +
        'right=(TableRef name="d") on=(= d.id a.id)) right=(TableRef name="e" alias="x") on=(= x.id 1)))',
    ],
    [
      'SELECT a, count(*) FROM t WHERE b > 1 GROUP BY a, c HAVING count(*) > 2 ORDER BY 2 DESC, a ASC, lower(c) LIMIT 10 OFFSET 5',
      '(Select columns=[(ExprColumn expr=a text="a") (ExprColumn expr=(count *) text="count(*)")] from=(TableRef name="t") where=(> b 1) ' +
        'groupBy=[a c] having=(> (count *) 2) orderBy=[(OrderingTerm expr=2 order="DESC") (OrderingTerm expr=a order="ASC") (OrderingTerm expr=(lower c))] limit=10 offset=5)',
    ],
    ['SELECT a FROM t LIMIT 5, 10', '(Select columns=[(ExprColumn expr=a text="a")] from=(TableRef name="t") limit=10 offset=5)'],
    ['SELECT a FROM t LIMIT ?', '(Select columns=[(ExprColumn expr=a text="a")] from=(TableRef name="t") limit=?1)'],
  ])('%s', (sql, expected) => {
    expect(sexpr(sql)).toBe(expected);
  });

  it('keeps each result expression as written, for SQLite-style column names', () => {
    const s = parseStatement('SELECT  a+1 ,(b) , count( * )  -- trailing\nFROM t');
    expect(s.kind === 'Select' && s.columns.map((c) => c.kind === 'ExprColumn' && c.text)).toEqual(['a+1', '(b)', 'count( * )']);
  });
});

describe('UPDATE, DELETE, EXPLAIN QUERY PLAN', () => {
  it.each([
    ['UPDATE t SET a = 1', '(Update table="t" assignments=[(Assignment column="a" value=1)])'],
    ['UPDATE t SET a = a + 1, "b" = ? WHERE id = ?', '(Update table="t" assignments=[(Assignment column="a" value=(+ a 1)) (Assignment column="b" value=?1)] where=(= id ?2))'],
    ['DELETE FROM t', '(Delete table="t")'],
    ['DELETE FROM t WHERE a IN (1, 2)', '(Delete table="t" where=(IN a [1 2]))'],
    [
      'EXPLAIN QUERY PLAN SELECT a FROM t WHERE id = 1',
      '(ExplainQueryPlan select=(Select columns=[(ExprColumn expr=a text="a")] from=(TableRef name="t") where=(= id 1)))',
    ],
  ])('%s', (sql, expected) => {
    expect(sexpr(sql)).toBe(expected);
  });
});

describe('what rqlite clients send', () => {
  it('reads keywords in any case, comments and a trailing semicolon', () => {
    expect(sexpr('sElEcT a /* a block\ncomment */ FrOm t -- a line comment\n;')).toBe(sexpr('SELECT a FROM t'));
    expect(sexpr('SELECT a FROM t;;')).toBe(sexpr('SELECT a FROM t'));
    expect(sexpr('SELECT 1 /* never closed')).toBe(sexpr('SELECT 1'));
  });

  it('splits several statements, skipping empty ones', () => {
    const statements = parseStatements(';CREATE TABLE t (a); ; INSERT INTO t VALUES (1);SELECT a FROM t;');
    expect(statements.map((s) => s.kind)).toEqual(['CreateTable', 'Insert', 'Select']);
    expect(parseStatements('  -- nothing\n ; ')).toEqual([]);
  });

  it('accepts names that are keywords elsewhere, and quoted reserved words', () => {
    expect(sexpr('SELECT key, value, "order", [group] FROM "select" WHERE type = 1')).toBe(
      '(Select columns=[(ExprColumn expr=key text="key") (ExprColumn expr=value text="value") (ExprColumn expr="order" text="\\"order\\"") ' +
        '(ExprColumn expr=group text="[group]")] from=(TableRef name="select") where=(= type 1))',
    );
  });
});
