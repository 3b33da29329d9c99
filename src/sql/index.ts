/**
 * sql — the SQL front end of the dialect in CONTRACT.md §2.2: a lexer, a
 * parser giving an immutable AST with SQLite's error messages, an
 * exhaustive walk over that AST, and the evaluator of expressions with
 * SQLite's semantics (eval/), the catalog built from DDL (catalog/), and the
 * layout of values, rows and keys in the KV (codec/), and the executor of
 * statements against a KvTxn (exec/). The planner lands next.
 *
 * Must not: do I/O except through the KvTxn it is given (the catalog and rows),
 * or recurse without a bound on untrusted input.
 */
export type * from './ast.js';
export { SqlError } from './errors.js';
export { parseStatement, parseStatements } from './parser.js';
export { children, collectColumnRefs, collectParameters, walk } from './visit.js';
export { affinityOfTypeName, evaluate, isAggregateCall, realToText } from './eval/index.js';
export type { Affinity, RowContext } from './eval/index.js';
export { Catalog, columnIndex } from './catalog/index.js';
export type { ColumnSchema, DdlStatement, IndexSchema, KeyColumn, TableSchema } from './catalog/index.js';
export { compareValues, decodeRow, encodeKeyValue, encodeRow, indexKey, KeyWriter, RowFormatError, rowBounds, rowKey, SQL_PREFIX } from './codec/index.js';
export type { IndexColumn, SqlValue } from './codec/index.js';
export { SqlSession } from './exec/index.js';
export type { Bindings, ExecResult, ExecuteResult, QueryResult } from './exec/index.js';
