/** exec — runs statements against a KvTxn: the catalog in the KV, DDL, INSERT, SELECT over one table, UPDATE and DELETE. */
export { SqlSession } from './session.js';
export type { ExecResult, ExecuteResult, QueryResult } from './result.js';
export type { Bindings } from './scope.js';
