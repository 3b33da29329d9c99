/** DDL into the catalog: SQLite's rules for keys, affinities and automatic indexes, and its messages (checked against sqlite3 3.40.1). */
import { describe, expect, it } from 'vitest';
import { parseStatement } from '../index.js';
import type { DdlStatement } from './index.js';
import { Catalog } from './index.js';

const ddl = (sql: string) => parseStatement(sql) as DdlStatement;
const run = (...sqls: string[]) => sqls.reduce((c, s) => c.apply(ddl(s)), Catalog.empty());

describe('tables', () => {
  it('reads affinities from declared types, keeps the declared type in lower case', () => {
    const t = run('CREATE TABLE t (a INT, b VARCHAR(10) NOT NULL, c REAL, d, e NUMERIC DEFAULT 5, f BLOB, g DOUBLE PRECISION)').table('T')!;
    expect(t.columns.map((c) => [c.name, c.declaredType, c.affinity, c.notNull])).toEqual([
      ['a', 'int', 'INTEGER', false],
      ['b', 'varchar(10)', 'TEXT', true],
      ['c', 'real', 'REAL', false],
      ['d', '', 'BLOB', false],
      ['e', 'numeric', 'NUMERIC', false],
      ['f', 'blob', 'BLOB', false],
      ['g', 'double precision', 'REAL', false],
    ]);
    expect(t.columns[4].defaultValue).not.toBeNull();
    expect(t.primaryKey).toEqual([]);
    expect(t.rowidAlias).toBeNull();
  });

  it.each([
    ['CREATE TABLE t (a INTEGER PRIMARY KEY, b)', 0],
    ['CREATE TABLE t (a integer primary key autoincrement, b)', 0],
    ['CREATE TABLE t (a INTEGER, b, PRIMARY KEY (a DESC))', 0],
    ['CREATE TABLE t (a INTEGER PRIMARY KEY DESC, b)', null],
    ['CREATE TABLE t (a INT PRIMARY KEY, b)', null],
    ['CREATE TABLE t (a INTEGER(10) PRIMARY KEY, b)', null],
    ['CREATE TABLE t (a INTEGER, b, PRIMARY KEY (a, b))', null],
  ])('%s: rowid alias %s, as in SQLite', (sql, alias) => {
    expect(run(sql).table('t')!.rowidAlias).toBe(alias);
  });

  it('keys on the declared primary key, descending columns kept, a repeated column once', () => {
    const t = run('CREATE TABLE t (a TEXT, b INT, c, PRIMARY KEY (b DESC, a, b))').table('t')!;
    expect(t.primaryKey).toEqual([
      { column: 1, descending: true },
      { column: 0, descending: false },
    ]);
  });

  it('turns UNIQUE constraints into unique automatic indexes', () => {
    const t = run('CREATE TABLE t (a UNIQUE, b, c, UNIQUE (b, c DESC))').table('t')!;
    expect(t.indexes.map((i) => [i.name, i.unique, i.columns])).toEqual([
      ['sqlite_autoindex_t_1', true, [{ column: 0, descending: false }]],
      ['sqlite_autoindex_t_2', true, [{ column: 1, descending: false }, { column: 2, descending: true }]],
    ]);
  });

  it.each([
    [['CREATE TABLE t (a, a)'], 'duplicate column name: a'],
    [['CREATE TABLE t (a PRIMARY KEY, b PRIMARY KEY)'], 'table "t" has more than one primary key'],
    [['CREATE TABLE t (a PRIMARY KEY, b, PRIMARY KEY (b))'], 'table "t" has more than one primary key'],
    [['CREATE TABLE t (a, PRIMARY KEY (x))'], 'no such column: x'],
    [['CREATE TABLE t (a, UNIQUE (x))'], 'no such column: x'],
    [['CREATE TABLE t (a TEXT PRIMARY KEY AUTOINCREMENT)'], 'AUTOINCREMENT is only allowed on an INTEGER PRIMARY KEY'],
    [['CREATE TABLE t (a)', 'CREATE TABLE T (b)'], 'table T already exists'],
    [['CREATE TABLE sqlite_x (a)'], 'object name reserved for internal use: sqlite_x'],
    [['DROP TABLE t'], 'no such table: t'],
    [['CREATE TABLE t (a)', 'CREATE INDEX x ON t (a)', 'CREATE TABLE x (b)'], 'there is already an index named x'],
  ])('%j fails with "%s"', (sqls, message) => {
    expect(() => run(...sqls)).toThrow(message);
  });
});

describe('indexes', () => {
  it('adds and drops indexes; IF [NOT] EXISTS makes a no-op, every change raises the version', () => {
    const c1 = run('CREATE TABLE t (a, b)', 'CREATE UNIQUE INDEX i ON t (b DESC, a)');
    expect(c1.version).toBe(2);
    expect(c1.index('I')!.index).toMatchObject({ name: 'i', table: 't', unique: true, columns: [{ column: 1, descending: true }, { column: 0, descending: false }] });
    expect(c1.apply(ddl('CREATE INDEX IF NOT EXISTS i ON t (a)'))).toBe(c1);
    expect(c1.apply(ddl('DROP INDEX IF EXISTS nope'))).toBe(c1);
    expect(c1.apply(ddl('DROP TABLE IF EXISTS nope'))).toBe(c1);
    const c2 = c1.apply(ddl('DROP INDEX i'));
    expect(c2.index('i')).toBeUndefined();
    expect(c2.version).toBe(3);
    expect(c1.index('i')).toBeDefined(); // the catalog is immutable
  });

  it('never reuses an id, so the keys of a dropped table never alias a new one', () => {
    const c = run('CREATE TABLE t (a UNIQUE)', 'DROP TABLE t', 'CREATE TABLE t (a)');
    expect(c.table('t')!.id).toBeGreaterThan(2);
  });

  it.each([
    [['CREATE INDEX i ON t (a)'], 'no such table: main.t'],
    [['CREATE TABLE t (a)', 'CREATE INDEX i ON t (z)'], 'no such column: z'],
    [['CREATE TABLE t (a)', 'CREATE INDEX i ON t (a)', 'CREATE INDEX i ON t (a)'], 'index i already exists'],
    [['CREATE TABLE t (a)', 'CREATE INDEX IF NOT EXISTS t ON t (a)'], 'there is already a table named t'],
    [['DROP INDEX i'], 'no such index: i'],
    [['CREATE TABLE t (a UNIQUE)', 'DROP INDEX sqlite_autoindex_t_1'], 'index associated with UNIQUE or PRIMARY KEY constraint cannot be dropped'],
  ])('%j fails with "%s"', (sqls, message) => {
    expect(() => run(...sqls)).toThrow(message);
  });
});

describe('encoding', () => {
  it('round-trips through JSON, bigint defaults included', () => {
    const c = run('CREATE TABLE t (id INTEGER PRIMARY KEY, n INT DEFAULT 9223372036854775807, s TEXT UNIQUE)', 'CREATE INDEX i ON t (n)');
    const back = Catalog.decode(c.encode());
    expect(back).toEqual(c);
    expect(back.apply(ddl('CREATE TABLE u (a)')).table('u')!.id).toBe(c.apply(ddl('CREATE TABLE u (a)')).table('u')!.id);
  });
});
