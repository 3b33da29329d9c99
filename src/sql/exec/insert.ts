/**
 * INSERT [OR IGNORE | OR REPLACE] … VALUES | SELECT: defaults, affinities,
 * the rowid (max + 1 when left out or NULL), NOT NULL and uniqueness with
 * SQLite's messages, and the index entries.
 */
import type { Insert } from '../ast.js';
import type { Catalog, TableSchema } from '../catalog/index.js';
import type { SqlValue } from '../codec/index.js';
import { INT64_MAX } from '../codec/index.js';
import { SqlError } from '../errors.js';
import { evaluate } from '../eval/index.js';
import type { StatementWrites } from './kv.js';
import { findConflicts, notNullViolation, readRows, removeRow, storedValues, writeRow } from './rows.js';
import type { Bindings } from './scope.js';
import { Scope } from './scope.js';
import { executeSelect } from './select.js';

export interface InsertOutcome {
  readonly rowsAffected: number;
  /** The rowid of the last row inserted, if the table has rowids and a row was inserted. */
  readonly lastRowid: bigint | null;
}

export async function executeInsert(kv: StatementWrites, catalog: Catalog, stmt: Insert, bindings: Bindings): Promise<InsertOutcome> {
  const table = catalog.table(stmt.table);
  if (!table) throw new SqlError(`no such table: ${stmt.table}`);
  const targets = stmt.columns === null ? table.columns.map((_, i) => i) : stmt.columns.map((name) => targetColumn(table, name));
  const sourceRows = await sourceValues(kv, catalog, stmt, bindings);
  for (const row of sourceRows) {
    if (row.length !== targets.length) {
      throw new SqlError(stmt.columns === null ? `table ${table.name} has ${targets.length} columns but ${row.length} values were supplied` : `${row.length} values for ${targets.length} columns`);
    }
  }
  const noRow = new Scope(null, bindings).row([]);
  const defaults = table.columns.map((c) => (c.defaultValue === null ? null : evaluate(c.defaultValue, noRow)));
  const hasRowid = table.primaryKey.length === 0 || table.rowidAlias !== null;
  // KvTxn.scan has no reverse, so the largest rowid comes from a scan of every row for now.
  const rows = hasRowid ? await readRows(kv, table) : [];
  let maxRowid = rows.length > 0 ? (rows[rows.length - 1].rowid ?? 0n) : 0n;
  const nextRowid = () => {
    if (maxRowid === INT64_MAX) throw new SqlError('database or disk is full');
    return maxRowid + 1n;
  };

  let rowsAffected = 0;
  let lastRowid: bigint | null = null;
  for (const source of sourceRows) {
    const given = [...defaults];
    targets.forEach((column, i) => (given[column] = source[i]));
    if (table.rowidAlias !== null && given[table.rowidAlias] === null) given[table.rowidAlias] = nextRowid();
    const values = storedValues(table, given);
    const rowid = table.rowidAlias !== null ? (values[table.rowidAlias] as bigint) : hasRowid ? nextRowid() : null;
    const notNull = notNullViolation(table, values);
    if (notNull !== undefined) {
      if (stmt.onConflict === 'IGNORE') continue;
      throw new SqlError(notNull);
    }
    const conflicts = await findConflicts(kv, table, values, rowid);
    if (conflicts.length > 0) {
      if (stmt.onConflict === 'ABORT') throw new SqlError(conflicts[0].message);
      if (stmt.onConflict === 'IGNORE') continue;
      for (const c of conflicts) removeRow(kv, table, c.row);
    }
    writeRow(kv, table, values, rowid);
    rowsAffected++;
    if (rowid !== null) {
      lastRowid = rowid;
      if (rowid > maxRowid) maxRowid = rowid;
    }
  }
  return { rowsAffected, lastRowid };
}

function targetColumn(table: TableSchema, name: string): number {
  const i = table.columns.findIndex((c) => c.name.toLowerCase() === name.toLowerCase());
  if (i < 0) throw new SqlError(`table ${table.name} has no column named ${name}`);
  return i;
}

async function sourceValues(kv: StatementWrites, catalog: Catalog, stmt: Insert, bindings: Bindings): Promise<readonly (readonly SqlValue[])[]> {
  const source = stmt.source;
  if (source.kind === 'Select') return (await executeSelect(kv, catalog, source, bindings)).rows;
  const width = source.rows[0]?.length ?? 0;
  if (source.rows.some((r) => r.length !== width)) throw new SqlError('all VALUES must have the same number of terms');
  const scope = new Scope(null, bindings);
  scope.bind(source.rows.flat());
  const row = scope.row([]);
  return source.rows.map((r) => r.map((e) => evaluate(e, row)));
}
