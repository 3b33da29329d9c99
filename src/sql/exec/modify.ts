/**
 * UPDATE and DELETE: a full scan of the table, the WHERE filter, then each
 * matched row rewritten (a changed primary key moves it) or removed, with its
 * index entries. Rows are rewritten one at a time, so `SET id = id + 1` clashes
 * with the next row as it does in SQLite. Both count the rows matched.
 */
import type { Delete, Expr, Update } from '../ast.js';
import type { Catalog, TableSchema } from '../catalog/index.js';
import { columnIndex } from '../catalog/index.js';
import { SqlError } from '../errors.js';
import type { RowContext } from '../eval/index.js';
import { evaluate, truthOf } from '../eval/index.js';
import type { StatementWrites } from './kv.js';
import type { StoredRow } from './rows.js';
import { findConflicts, notNullViolation, readRows, removeRow, storedValues, writeRow } from './rows.js';
import type { Bindings } from './scope.js';
import { Scope } from './scope.js';

export async function executeUpdate(kv: StatementWrites, catalog: Catalog, stmt: Update, bindings: Bindings): Promise<number> {
  const table = tableOf(catalog, stmt.table);
  const assignments = stmt.assignments.map((a) => ({ column: columnIndex(table, a.column), value: a.value }));
  const matched = await matchingRows(kv, table, stmt.where, bindings, assignments.map((a) => a.value));
  for (const { row, context } of matched) {
    const given = [...row.values];
    // Every new value is computed from the old row.
    const assigned = assignments.map((a) => evaluate(a.value, context));
    assignments.forEach((a, i) => (given[a.column] = assigned[i]));
    const values = storedValues(table, given);
    const notNull = notNullViolation(table, values);
    if (notNull !== undefined) throw new SqlError(notNull);
    const rowid = table.rowidAlias !== null ? (values[table.rowidAlias] as bigint) : row.rowid;
    removeRow(kv, table, row);
    const conflicts = await findConflicts(kv, table, values, rowid);
    if (conflicts.length > 0) throw new SqlError(conflicts[0].message);
    writeRow(kv, table, values, rowid);
  }
  return matched.length;
}

export async function executeDelete(kv: StatementWrites, catalog: Catalog, stmt: Delete, bindings: Bindings): Promise<number> {
  const table = tableOf(catalog, stmt.table);
  const matched = await matchingRows(kv, table, stmt.where, bindings, []);
  for (const { row } of matched) removeRow(kv, table, row);
  return matched.length;
}

function tableOf(catalog: Catalog, name: string): TableSchema {
  const table = catalog.table(name);
  if (!table) throw new SqlError(`no such table: ${name}`);
  return table;
}

/** The rows WHERE accepts, each with the context that evaluates `exprs` over it. */
async function matchingRows(kv: StatementWrites, table: TableSchema, where: Expr | null, bindings: Bindings, exprs: readonly Expr[]): Promise<{ row: StoredRow; context: RowContext }[]> {
  const scope = new Scope({ table, name: table.name }, bindings);
  scope.bind([where, ...exprs]);
  const out: { row: StoredRow; context: RowContext }[] = [];
  for (const row of await readRows(kv, table)) {
    const context = scope.row(row.values);
    if (where === null || truthOf(evaluate(where, context)) === true) out.push({ row, context });
  }
  return out;
}
