import { describe, expect, it } from 'vitest';
import type { Node } from './index.js';
import { children, collectColumnRefs, collectParameters, parseStatement, parseStatements, walk } from './index.js';

const columns = (sql: string) => collectColumnRefs(parseStatement(sql)).map((c) => (c.table ? `${c.table}.${c.column}` : c.column));
const parameters = (sql: string) => collectParameters(parseStatement(sql)).map((p) => `${p.name ?? '?'}=${p.index}`);

describe('collectColumnRefs', () => {
  it.each([
    ['SELECT a, t.b, a + c FROM t WHERE d = 1 GROUP BY e HAVING count(f) > 1 ORDER BY g LIMIT h OFFSET i', ['a', 't.b', 'a', 'c', 'd', 'e', 'f', 'g', 'h', 'i']],
    ['SELECT * FROM a JOIN b ON a.x = b.y LEFT JOIN c ON c.z IS NULL', ['a.x', 'b.y', 'c.z']],
    ['SELECT CASE k WHEN l THEN m ELSE n END, CAST(o AS INT), p BETWEEN q AND r, s LIKE u ESCAPE v, w IN (x, y)', ['k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 'u', 'v', 'w', 'x', 'y']],
    ['UPDATE t SET a = b + 1 WHERE c', ['b', 'c']],
    ['DELETE FROM t WHERE a = b', ['a', 'b']],
    ['INSERT INTO t (a) VALUES (b), (c)', ['b', 'c']],
    ['INSERT INTO t SELECT a FROM u WHERE b', ['a', 'b']],
    ['CREATE TABLE t (a DEFAULT (b))', ['b']],
    ['EXPLAIN QUERY PLAN SELECT a FROM t', ['a']],
    ['DROP TABLE t', []],
  ])('%s', (sql, expected) => {
    expect(columns(sql)).toEqual(expected);
  });
});

describe('collectParameters', () => {
  it.each([
    ['SELECT a FROM t WHERE id = ?', ['?=1']],
    ['INSERT INTO t VALUES (?, ?), (?3, :x), (:x, @y, $z)', ['?=1', '?=2', '?=3', ':x=4', ':x=4', '@y=5', '$z=6']],
    ['UPDATE t SET a = ? WHERE b IN (?, ?)', ['?=1', '?=2', '?=3']],
    ['SELECT * FROM t LIMIT ? OFFSET ?', ['?=1', '?=2']],
  ])('%s', (sql, expected) => {
    expect(parameters(sql)).toEqual(expected);
  });
});

/** Every node kind; a kind added to ast.ts and not listed here does not compile. */
const ALL_KINDS: Record<Node['kind'], true> = {
  CreateTable: true, DropTable: true, CreateIndex: true, DropIndex: true, Insert: true, Values: true, Select: true, Update: true, Delete: true,
  ExplainQueryPlan: true, ColumnDef: true, TypeName: true, PrimaryKeyConstraint: true, NotNullConstraint: true, UniqueConstraint: true,
  DefaultConstraint: true, TablePrimaryKey: true, TableUnique: true, IndexedColumn: true, AllColumns: true, ExprColumn: true, TableRef: true,
  Join: true, OrderingTerm: true, Assignment: true, IntegerLiteral: true, RealLiteral: true, StringLiteral: true, BlobLiteral: true,
  NullLiteral: true, BooleanLiteral: true, ColumnRef: true, Parameter: true, Unary: true, Binary: true, IsNull: true, InList: true,
  Between: true, Like: true, Case: true, CaseWhen: true, Cast: true, FunctionCall: true,
};

describe('walk', () => {
  it('visits parents before children, in source order', () => {
    const kinds: string[] = [];
    walk(parseStatement('SELECT -a FROM t WHERE b = 1'), (n) => kinds.push(n.kind));
    expect(kinds).toEqual(['Select', 'ExprColumn', 'Unary', 'ColumnRef', 'TableRef', 'Binary', 'ColumnRef', 'IntegerLiteral']);
  });

  it('reaches every node of every statement kind', () => {
    const sql = [
      "CREATE TABLE t (a INT PRIMARY KEY, b TEXT NOT NULL UNIQUE DEFAULT 'x', PRIMARY KEY (a), UNIQUE (b))",
      'CREATE UNIQUE INDEX i ON t (a DESC)',
      'DROP TABLE t',
      'DROP INDEX i',
      "INSERT INTO t VALUES (1, 2.5, 'x', X'00', NULL, TRUE, ?)",
      'SELECT *, t.*, f(a) AS x FROM t, u ORDER BY 1',
      'UPDATE t SET a = 1',
      'DELETE FROM t',
      'EXPLAIN QUERY PLAN SELECT CASE WHEN -a BETWEEN 1 AND 2 THEN CAST(b AS INT) END, c LIKE d, e IN (1) AND f NOTNULL',
    ].join(';');
    const seen = new Set<string>();
    for (const s of parseStatements(sql)) walk(s, (n) => seen.add(n.kind));
    expect([...seen].sort()).toEqual(Object.keys(ALL_KINDS).sort());
  });

  it('walks a 50,000-row VALUES without recursion', () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => `(${i}, ?)`).join(',');
    expect(collectParameters(parseStatement(`INSERT INTO t VALUES ${rows}`))).toHaveLength(50_000);
  });

  it('lists no children for leaves', () => {
    const leaf: Node = { kind: 'NullLiteral' };
    expect(children(leaf)).toEqual([]);
  });
});

