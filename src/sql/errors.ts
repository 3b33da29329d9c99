/**
 * SqlError: a statement the front end rejects. It is an operational error
 * (the request is wrong; asking again will not help), so a `DbError` with code
 * BAD_REQUEST; the SQL routes report it in the statement's `results` item
 * (CONTRACT.md §2.2), not as an HTTP 400. Messages are SQLite's own wording
 * wherever SQLite has one, since rqlite clients show them to users.
 */
import { DbError } from '../common/index.js';

/** SQLite's SQLITE_MAX_EXPR_DEPTH default. */
export const MAX_EXPR_DEPTH = 1000;

export class SqlError extends DbError {
  constructor(message: string) {
    super('BAD_REQUEST', message);
    this.name = 'SqlError';
  }

  static syntax(tokenText: string): SqlError {
    return new SqlError(`near "${tokenText}": syntax error`);
  }

  static incompleteInput(): SqlError {
    return new SqlError('incomplete input');
  }

  static unrecognizedToken(text: string): SqlError {
    return new SqlError(`unrecognized token: "${text}"`);
  }

  static tooDeep(): SqlError {
    return new SqlError(`Expression tree is too large (maximum depth ${MAX_EXPR_DEPTH})`);
  }

  /** A construct SQLite has but this dialect leaves out (CONTRACT.md §2.2). */
  static unsupported(what: string): SqlError {
    return new SqlError(`${what} are not supported`);
  }

  /** A construct of the dialect that the executor does not run yet. */
  static notYet(what: string): SqlError {
    return new SqlError(`${what} are not supported yet`);
  }
}
