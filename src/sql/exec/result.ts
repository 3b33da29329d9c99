/**
 * What a statement answers, in the shape of rqlite's results (the gateway's
 * StatementResult, less the timing it adds). A failing statement throws a
 * SqlError instead, whose message is SQLite's.
 */
import type { SqlValue } from '../codec/index.js';

export interface ExecuteResult {
  readonly kind: 'execute';
  /** Rows inserted, or matched by UPDATE / DELETE, as SQLite's changes() counts them. */
  readonly rowsAffected: number;
  /** The rowid of the session's last inserted row, as SQLite's last_insert_rowid(). */
  readonly lastInsertId: bigint;
}

export interface QueryResult {
  readonly kind: 'query';
  readonly columns: readonly string[];
  /** The declared type in lower case for a plain column, "" for an expression. */
  readonly types: readonly string[];
  readonly rows: readonly (readonly SqlValue[])[];
}

export type ExecResult = ExecuteResult | QueryResult;
