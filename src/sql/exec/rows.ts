/**
 * A table's rows and index entries in the KV (codec/table-keys.ts):
 *   - the row key holds the primary key, or the rowid of a table without one;
 *     such a table's row value holds the rowid first, then the columns, since
 *     keys are not decoded;
 *   - a unique index entry's key holds the indexed values and its value the
 *     row's primary key (encodeRow); a non-unique one, or a unique one with a
 *     NULL (SQLite lets NULLs repeat), has the primary key appended to its key.
 * Writes go through the statement's overlay; every read is a full scan of the
 * table for now (point lookups by key are the planner's next step).
 */
import type { IndexSchema, TableSchema } from '../catalog/index.js';
import type { SqlValue } from '../codec/index.js';
import { decodeRow, encodeRow, indexKey, rowBounds, rowKey } from '../codec/index.js';
import { SqlError } from '../errors.js';
import { applyColumnAffinity } from '../eval/index.js';
import type { KvItem, StatementWrites } from './kv.js';

export interface StoredRow {
  readonly key: Uint8Array;
  readonly values: readonly SqlValue[];
  /** The hidden rowid, or the INTEGER PRIMARY KEY's value; null for a table keyed by another primary key. */
  readonly rowid: bigint | null;
}

const EMPTY = new Uint8Array(0);

function decodeStored(table: TableSchema, item: KvItem): StoredRow {
  const decoded = decodeRow(item.value);
  if (table.primaryKey.length === 0) return { key: item.key, values: decoded.slice(1), rowid: decoded[0] as bigint };
  const rowid = table.rowidAlias === null ? null : (decoded[table.rowidAlias] as bigint);
  return { key: item.key, values: decoded, rowid };
}

/** Every row of the table, in key order. */
export async function readRows(kv: StatementWrites, table: TableSchema): Promise<StoredRow[]> {
  const { gte, lt } = rowBounds(table.id);
  return (await kv.scanRange(gte, lt)).map((item) => decodeStored(table, item));
}

async function readRow(kv: StatementWrites, table: TableSchema, key: Uint8Array): Promise<StoredRow | undefined> {
  const value = await kv.get(key);
  return value && decodeStored(table, { key, value });
}

function primaryKeyOf(table: TableSchema, values: readonly SqlValue[], rowid: bigint | null): SqlValue[] {
  return table.primaryKey.length === 0 ? [rowid] : table.primaryKey.map((k) => values[k.column]);
}

/** SQLite's message for a clash on these columns ("UNIQUE constraint failed: t.a, t.b"). */
export const uniqueFailed = (table: TableSchema, columns: readonly { column: number }[]) =>
  `UNIQUE constraint failed: ${columns.map((k) => `${table.name}.${table.columns[k.column].name}`).join(', ')}`;

/** The row's entry in the index; `unique`: its key holds no primary key, so another row's entry may already hold it. */
export function indexEntry(table: TableSchema, index: IndexSchema, values: readonly SqlValue[], pk: readonly SqlValue[]): KvItem & { unique: boolean } {
  const columns = index.columns.map((k) => ({ value: values[k.column], descending: k.descending }));
  if (index.unique && columns.every((c) => c.value !== null)) return { key: indexKey(table.id, index.id, columns), value: encodeRow(pk), unique: true };
  return { key: indexKey(table.id, index.id, columns, pk), value: EMPTY, unique: false };
}

/**
 * The values as the table stores them: each column's affinity applied, the
 * INTEGER PRIMARY KEY an integer ("datatype mismatch"), and NOT NULL kept
 * (also on the columns of a primary key other than the rowid's, whose row key
 * cannot hold a NULL: SQLite would allow it there).
 */
export function storedValues(table: TableSchema, values: readonly SqlValue[]): SqlValue[] {
  const out = table.columns.map((c, i) => applyColumnAffinity(values[i] ?? null, c.affinity));
  if (table.rowidAlias !== null && typeof out[table.rowidAlias] !== 'bigint') throw new SqlError('datatype mismatch');
  return out;
}

/** SQLite's message for the first NOT NULL column (or primary key column) that holds a NULL, if any. */
export function notNullViolation(table: TableSchema, values: readonly SqlValue[]): string | undefined {
  const column = table.columns.findIndex((c, i) => values[i] === null && (c.notNull || table.primaryKey.some((k) => k.column === i)));
  return column < 0 ? undefined : `NOT NULL constraint failed: ${table.name}.${table.columns[column].name}`;
}

export interface Conflict {
  readonly message: string;
  readonly row: StoredRow;
}

/** The rows that the new row would clash with on its primary key or a unique index, each with SQLite's message. */
export async function findConflicts(kv: StatementWrites, table: TableSchema, values: readonly SqlValue[], rowid: bigint | null): Promise<Conflict[]> {
  const found: Conflict[] = [];
  const pk = primaryKeyOf(table, values, rowid);
  if (table.primaryKey.length > 0) {
    const row = await readRow(kv, table, rowKey(table.id, pk));
    if (row) found.push({ message: uniqueFailed(table, table.primaryKey), row });
  }
  for (const index of table.indexes) {
    const entry = indexEntry(table, index, values, pk);
    if (!entry.unique) continue;
    const held = await kv.get(entry.key);
    const row = held && (await readRow(kv, table, rowKey(table.id, decodeRow(held))));
    if (row && !found.some((c) => Buffer.compare(c.row.key, row.key) === 0)) found.push({ message: uniqueFailed(table, index.columns), row });
  }
  return found;
}

/** Writes the row and its index entries; the caller has checked the constraints. */
export function writeRow(kv: StatementWrites, table: TableSchema, values: readonly SqlValue[], rowid: bigint | null): void {
  const pk = primaryKeyOf(table, values, rowid);
  kv.put(rowKey(table.id, pk), encodeRow(table.primaryKey.length === 0 ? [rowid, ...values] : values));
  for (const index of table.indexes) {
    const entry = indexEntry(table, index, values, pk);
    kv.put(entry.key, entry.value);
  }
}

/** Deletes the row and its index entries. */
export function removeRow(kv: StatementWrites, table: TableSchema, row: StoredRow): void {
  kv.delete(row.key);
  const pk = primaryKeyOf(table, row.values, row.rowid);
  for (const index of table.indexes) kv.delete(indexEntry(table, index, row.values, pk).key);
}

/** The primary key of a stored row, as an index entry refers to it. */
export const rowPrimaryKey = (table: TableSchema, row: StoredRow): SqlValue[] => primaryKeyOf(table, row.values, row.rowid);
