/**
 * The catalog in the KV (one key, read at the start of every statement
 * through the transaction) and DDL: the new catalog from Catalog.apply, and
 * the rows and index entries it adds or leaves behind.
 */
import { assertNever } from '../../common/index.js';
import type { DdlStatement, IndexSchema, TableSchema } from '../catalog/index.js';
import { Catalog } from '../catalog/index.js';
import { CATALOG_KEY, indexBounds, rowBounds } from '../codec/index.js';
import { SqlError } from '../errors.js';
import type { StatementWrites } from './kv.js';
import { indexEntry, readRows, rowPrimaryKey, uniqueFailed } from './rows.js';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export async function loadCatalog(kv: StatementWrites): Promise<Catalog> {
  const stored = await kv.get(CATALOG_KEY);
  return stored ? Catalog.decode(fromUtf8.decode(stored)) : Catalog.empty();
}

export async function executeDdl(kv: StatementWrites, catalog: Catalog, stmt: DdlStatement): Promise<void> {
  const next = catalog.apply(stmt);
  if (next === catalog) return; // IF [NOT] EXISTS
  switch (stmt.kind) {
    case 'CreateTable':
      break;
    case 'DropTable': {
      const table = catalog.table(stmt.name) as TableSchema;
      await deleteRange(kv, rowBounds(table.id));
      for (const index of table.indexes) await deleteRange(kv, indexBounds(table.id, index.id));
      break;
    }
    case 'CreateIndex': {
      const table = next.table(stmt.table) as TableSchema;
      await fillIndex(kv, table, table.indexes[table.indexes.length - 1]);
      break;
    }
    case 'DropIndex': {
      const { table, index } = catalog.index(stmt.name) as { table: TableSchema; index: IndexSchema };
      await deleteRange(kv, indexBounds(table.id, index.id));
      break;
    }
    default:
      assertNever(stmt, 'DDL statement');
  }
  kv.put(CATALOG_KEY, utf8.encode(next.encode()));
}

async function deleteRange(kv: StatementWrites, { gte, lt }: { gte: Uint8Array; lt: Uint8Array }): Promise<void> {
  for (const { key } of await kv.scanRange(gte, lt)) kv.delete(key);
}

/** The entries of a new index for the rows already in the table; a unique index over repeated values fails as SQLite's does. */
async function fillIndex(kv: StatementWrites, table: TableSchema, index: IndexSchema): Promise<void> {
  for (const row of await readRows(kv, table)) {
    const entry = indexEntry(table, index, row.values, rowPrimaryKey(table, row));
    if (entry.unique && (await kv.get(entry.key))) throw new SqlError(uniqueFailed(table, index.columns));
    kv.put(entry.key, entry.value);
  }
}
