/**
 * SqlSession: runs parsed statements against one KvTxn, as a SQLite
 * connection runs them inside a transaction. It reads the catalog at the start
 * of every statement, keeps SQLite's last_insert_rowid across statements, and
 * never commits or rolls back: the caller owns the transaction. A statement
 * that fails throws a SqlError and leaves the transaction as it was.
 */
import { assertNever } from '../../common/index.js';
import type { Statement } from '../ast.js';
import { SqlError } from '../errors.js';
import { executeDdl, loadCatalog } from './ddl.js';
import { executeInsert } from './insert.js';
import type { TxnAccess } from './kv.js';
import { StatementWrites } from './kv.js';
import { executeDelete, executeUpdate } from './modify.js';
import type { ExecResult } from './result.js';
import type { Bindings } from './scope.js';
import { executeSelect } from './select.js';

const NO_BINDINGS: Bindings = { positional: [], named: new Map() };

export class SqlSession {
  private lastInsertId = 0n;

  constructor(private readonly txn: TxnAccess) {}

  async execute(stmt: Statement, bindings: Bindings = NO_BINDINGS): Promise<ExecResult> {
    const kv = new StatementWrites(this.txn);
    const result = await this.run(kv, stmt, bindings);
    kv.flush();
    return result;
  }

  private async run(kv: StatementWrites, stmt: Statement, bindings: Bindings): Promise<ExecResult> {
    const catalog = await loadCatalog(kv);
    const changed = (rowsAffected: number): ExecResult => ({ kind: 'execute', rowsAffected, lastInsertId: this.lastInsertId });
    switch (stmt.kind) {
      case 'CreateTable':
      case 'DropTable':
      case 'CreateIndex':
      case 'DropIndex':
        await executeDdl(kv, catalog, stmt);
        return changed(0);
      case 'Insert': {
        const { rowsAffected, lastRowid } = await executeInsert(kv, catalog, stmt, bindings);
        if (lastRowid !== null) this.lastInsertId = lastRowid;
        return changed(rowsAffected);
      }
      case 'Update':
        return changed(await executeUpdate(kv, catalog, stmt, bindings));
      case 'Delete':
        return changed(await executeDelete(kv, catalog, stmt, bindings));
      case 'Select':
        return executeSelect(kv, catalog, stmt, bindings);
      case 'ExplainQueryPlan':
        throw SqlError.notYet('EXPLAIN QUERY PLAN statements');
      default:
        return assertNever(stmt, 'statement');
    }
  }
}
