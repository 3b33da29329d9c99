/**
 * Tables and indexes as the planner and executor see them, built from
 * CREATE TABLE / CREATE INDEX with SQLite's rules and error messages:
 *   - a column's affinity comes from its declared type (affinityOfTypeName);
 *   - a single-column PRIMARY KEY declared exactly INTEGER (not DESC) is the
 *     rowid alias: it gets ids as SQLite's rowid does;
 *   - a table without a PRIMARY KEY has a hidden rowid, its row key;
 *   - each UNIQUE constraint becomes a unique index (sqlite_autoindex_T_N).
 */
import type { CreateIndex, CreateTable, Expr, IndexedColumn } from '../ast.js';
import { assertNever } from '../../common/index.js';
import { SqlError } from '../errors.js';
import { affinityOfTypeName } from '../eval/index.js';
import type { Affinity } from '../eval/index.js';

export interface ColumnSchema {
  readonly name: string;
  /** The declared type as written, lower case ("varchar(255)"), "" when none: what `types` reports. */
  readonly declaredType: string;
  readonly affinity: Affinity;
  readonly notNull: boolean;
  readonly defaultValue: Expr | null;
}

/** A column of a key, by its position in the table. */
export interface KeyColumn {
  readonly column: number;
  readonly descending: boolean;
}

export interface IndexSchema {
  readonly id: number;
  readonly name: string;
  readonly table: string;
  readonly unique: boolean;
  readonly columns: readonly KeyColumn[];
}

export interface TableSchema {
  readonly id: number;
  readonly name: string;
  readonly columns: readonly ColumnSchema[];
  /** The row key's columns; empty: the hidden rowid is the key. */
  readonly primaryKey: readonly KeyColumn[];
  /** The INTEGER PRIMARY KEY column that aliases the rowid, if any. */
  readonly rowidAlias: number | null;
  readonly indexes: readonly IndexSchema[];
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The column's position, or SQLite's "no such column". */
export function columnIndex(table: { readonly columns: readonly { readonly name: string }[] }, name: string): number {
  const i = table.columns.findIndex((c) => same(c.name, name));
  if (i < 0) throw new SqlError(`no such column: ${name}`);
  return i;
}

/** The schema of a CREATE TABLE; `nextId` numbers the table and its automatic indexes. */
export function buildTable(stmt: CreateTable, nextId: () => number): TableSchema {
  if (/^sqlite_/i.test(stmt.name)) throw new SqlError(`object name reserved for internal use: ${stmt.name}`);
  const columns: ColumnSchema[] = [];
  /** `columnDesc`: declared as `col INTEGER PRIMARY KEY DESC`, which SQLite does not make a rowid alias. */
  let primary: { columns: readonly IndexedColumn[]; autoincrement: boolean; columnDesc: boolean } | undefined;
  const uniques: (readonly IndexedColumn[])[] = [];
  const setPrimary = (columns: readonly IndexedColumn[], autoincrement: boolean, columnDesc: boolean) => {
    if (primary) throw new SqlError(`table "${stmt.name}" has more than one primary key`);
    primary = { columns, autoincrement, columnDesc };
  };
  for (const def of stmt.columns) {
    if (columns.some((c) => same(c.name, def.name))) throw new SqlError(`duplicate column name: ${def.name}`);
    let notNull = false;
    let defaultValue: Expr | null = null;
    for (const c of def.constraints) {
      switch (c.kind) {
        case 'PrimaryKeyConstraint':
          setPrimary([{ kind: 'IndexedColumn', name: def.name, order: c.order }], c.autoincrement, c.order === 'DESC');
          break;
        case 'NotNullConstraint':
          notNull = true;
          break;
        case 'UniqueConstraint':
          uniques.push([{ kind: 'IndexedColumn', name: def.name, order: null }]);
          break;
        case 'DefaultConstraint':
          defaultValue = c.value;
          break;
        default:
          assertNever(c, 'column constraint');
      }
    }
    columns.push({ name: def.name, declaredType: def.type?.text.toLowerCase() ?? '', affinity: affinityOfTypeName(def.type?.name ?? null), notNull, defaultValue });
  }
  for (const c of stmt.constraints) {
    if (c.kind === 'TablePrimaryKey') setPrimary(c.columns, false, false);
    else uniques.push(c.columns);
  }
  const keyOf = (cols: readonly IndexedColumn[]): KeyColumn[] => {
    const out: KeyColumn[] = [];
    // SQLite accepts a column twice in a key and keys on it once.
    for (const ic of cols) {
      const column = columnIndex({ columns }, ic.name);
      if (!out.some((k) => k.column === column)) out.push({ column, descending: ic.order === 'DESC' });
    }
    return out;
  };
  const primaryKey = primary ? keyOf(primary.columns) : [];
  const only = primaryKey.length === 1 ? primaryKey[0] : undefined;
  // Exactly the type INTEGER; `INTEGER PRIMARY KEY DESC` on the column is not one (a quirk SQLite keeps).
  const rowidAlias = only && columns[only.column].declaredType === 'integer' && !primary!.columnDesc ? only.column : null;
  if (primary?.autoincrement && rowidAlias === null) throw new SqlError('AUTOINCREMENT is only allowed on an INTEGER PRIMARY KEY');
  const id = nextId();
  const indexes = uniques.map((cols, n): IndexSchema => ({ id: nextId(), name: `sqlite_autoindex_${stmt.name}_${n + 1}`, table: stmt.name, unique: true, columns: keyOf(cols) }));
  return { id, name: stmt.name, columns, primaryKey: rowidAlias === null ? primaryKey : [{ column: rowidAlias, descending: false }], rowidAlias, indexes };
}

/** The schema of a CREATE INDEX on `table`. */
export function buildIndex(stmt: CreateIndex, table: TableSchema, id: number): IndexSchema {
  if (/^sqlite_/i.test(stmt.name)) throw new SqlError(`object name reserved for internal use: ${stmt.name}`);
  return { id, name: stmt.name, table: table.name, unique: stmt.unique, columns: stmt.columns.map((c) => ({ column: columnIndex(table, c.name), descending: c.order === 'DESC' })) };
}
