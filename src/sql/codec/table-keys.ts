/**
 * Where SQL data lives in the shared keyspace. Every SQL key starts with
 * 0xFF 'S', which no `/kv` key can (they are UTF-8, which has no 0xFF byte):
 *
 *   0xFF 'S' 't' <table u32> 'r' <primary key values>            a row
 *   0xFF 'S' 't' <table u32> 'i' <index u32> <values> [<pk>]     an index entry
 *   0xFF 'S' 'c'                                                  the catalog
 *
 * Values are key-encoded (key-encoding.ts), so a table's rows lie in primary
 * key order and an index's entries in index order; a non-unique index entry
 * ends with the row's primary key, which keeps equal values apart.
 */
import { KeyWriter } from './key-encoding.js';
import type { SqlValue } from './value.js';

export const SQL_PREFIX = Uint8Array.of(0xff, 0x53);
const TABLE = 0x74; // 't'
const ROW = 0x72; // 'r'
const INDEX = 0x69; // 'i'

/** The one key that holds the catalog (Catalog.encode), read and written through the transaction. */
export const CATALOG_KEY = Uint8Array.of(...SQL_PREFIX, 0x63);

function tablePrefix(table: number, kind: number): KeyWriter {
  if (!Number.isInteger(table) || table < 0 || table > 0xffff_ffff) throw new RangeError(`table id ${table} is not a u32`);
  return new KeyWriter().raw(SQL_PREFIX).raw(Uint8Array.of(TABLE, table >>> 24, (table >>> 16) & 0xff, (table >>> 8) & 0xff, table & 0xff, kind));
}

export function rowKey(table: number, primaryKey: readonly SqlValue[]): Uint8Array {
  const w = tablePrefix(table, ROW);
  for (const v of primaryKey) w.value(v);
  return w.finish();
}

/** [gte, lt) of every row of a table. */
export function rowBounds(table: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: tablePrefix(table, ROW).finish(), lt: tablePrefix(table, ROW + 1).finish() };
}

/** [gte, lt) of every entry of one index of a table. */
export function indexBounds(table: number, index: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: indexKey(table, index, []), lt: indexKey(table, index + 1, []) };
}

export interface IndexColumn {
  readonly value: SqlValue;
  readonly descending: boolean;
}

/** An index entry's key; `primaryKey` is given for a non-unique index (undefined for a unique one). */
export function indexKey(table: number, index: number, columns: readonly IndexColumn[], primaryKey?: readonly SqlValue[]): Uint8Array {
  const w = tablePrefix(table, INDEX);
  w.raw(Uint8Array.of(index >>> 24, (index >>> 16) & 0xff, (index >>> 8) & 0xff, index & 0xff));
  for (const c of columns) w.value(c.value, c.descending);
  for (const v of primaryKey ?? []) w.value(v);
  return w.finish();
}
