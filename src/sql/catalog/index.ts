/** The schema: tables, columns, keys and indexes, built from DDL with SQLite's rules. */
export { Catalog } from './catalog.js';
export type { DdlStatement } from './catalog.js';
export { columnIndex } from './schema.js';
export type { ColumnSchema, IndexSchema, KeyColumn, TableSchema } from './schema.js';
