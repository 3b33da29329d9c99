/** How SQL values, rows and keys are laid out in the KV (see each module). */
export { compareValues, INT64_MAX, INT64_MIN, storageClass } from './value.js';
export type { SqlValue } from './value.js';
export { encodeKeyValue, KeyWriter } from './key-encoding.js';
export { decodeRow, encodeRow, RowFormatError } from './row-encoding.js';
export { CATALOG_KEY, indexBounds, indexKey, rowBounds, rowKey, SQL_PREFIX } from './table-keys.js';
export type { IndexColumn } from './table-keys.js';
