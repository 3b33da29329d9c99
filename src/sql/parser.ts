/**
 * The statement parser: hand-written recursive descent over the lexer, with
 * expressions in expression-parser.ts.
 *
 * Why not node-sql-parser or pgsql-ast-parser: rqlite clients expect SQLite's
 * error messages (`near "X": syntax error`, `incomplete input`), and a parser
 * that faces the network must bound its own depth and cost; generated parsers
 * give other messages and recurse per nesting level without a limit.
 */
import type {
  ColumnConstraint,
  ColumnDef,
  CreateIndex,
  CreateTable,
  Delete,
  DropIndex,
  DropTable,
  Expr,
  FromItem,
  IndexedColumn,
  Insert,
  JoinType,
  OrderingTerm,
  ResultColumn,
  Select,
  SortOrder,
  Statement,
  TableConstraint,
  TableRef,
  Update,
} from './ast.js';
import { Cursor } from './cursor.js';
import { SqlError } from './errors.js';
import { ExpressionParser } from './expression-parser.js';

/** Parses exactly one statement; a trailing `;` is allowed. */
export function parseStatement(sql: string): Statement {
  const c = new Cursor(sql);
  while (c.acceptPunct(';'));
  const statement = new StatementParser(c).parse();
  while (c.acceptPunct(';'));
  if (!c.atEnd()) throw c.syntaxError();
  return statement;
}

/** Parses statements separated by `;`, skipping empty ones. */
export function parseStatements(sql: string): Statement[] {
  const c = new Cursor(sql);
  const statements: Statement[] = [];
  for (;;) {
    while (c.acceptPunct(';'));
    if (c.atEnd()) return statements;
    statements.push(new StatementParser(c).parse());
    if (!c.atEnd() && !c.isPunct(';')) throw c.syntaxError();
  }
}

/** One statement; parameters are numbered within it, as SQLite numbers them per prepared statement. */
class StatementParser {
  private readonly expr: ExpressionParser;

  constructor(private readonly c: Cursor) {
    this.expr = new ExpressionParser(c);
  }

  parse(): Statement {
    const c = this.c;
    const t = c.peek;
    if (t.kind === 'word') {
      switch (t.value) {
        case 'SELECT':
          return this.parseSelect();
        case 'INSERT':
        case 'REPLACE':
          return this.parseInsert();
        case 'UPDATE':
          return this.parseUpdate();
        case 'DELETE':
          return this.parseDelete();
        case 'CREATE':
          return this.parseCreate();
        case 'DROP':
          return this.parseDrop();
        case 'EXPLAIN':
          c.acceptPhrase('EXPLAIN', 'QUERY', 'PLAN'); // plain EXPLAIN (bytecode) is not in the dialect
          return { kind: 'ExplainQueryPlan', select: this.parseSelect() };
        case 'WITH':
          throw SqlError.unsupported('common table expressions');
        case 'REINDEX':
          throw SqlError.unsupported('REINDEX statements');
      }
    }
    throw c.syntaxError();
  }

  private parseCreate(): CreateTable | CreateIndex {
    const c = this.c;
    c.expectWord('CREATE');
    if (c.acceptWord('TABLE')) return this.parseCreateTable();
    this.rejectViewOrTrigger();
    const unique = c.acceptWord('UNIQUE');
    c.expectWord('INDEX');
    const ifNotExists = this.acceptIfNotExists();
    const name = c.expectName();
    c.expectWord('ON');
    const table = c.expectName();
    return { kind: 'CreateIndex', unique, ifNotExists, name, table, columns: this.parseIndexedColumns() };
  }

  /** SQLite's `INDEXED BY i` and `NOT INDEXED` after a table name (INDEXED is also a valid alias, hence the lookahead). */
  private rejectIndexHint(): void {
    const c = this.c;
    if ((c.isWord('INDEXED') && c.isWord('BY', c.peekAhead())) || (c.isWord('NOT') && c.isWord('INDEXED', c.peekAhead()))) throw SqlError.unsupported('INDEXED BY and NOT INDEXED clauses');
  }

  /** Views and triggers are SQLite's, not the dialect's: say so rather than "syntax error". */
  private rejectViewOrTrigger(): void {
    const c = this.c;
    const word = c.isWord('TEMP') || c.isWord('TEMPORARY') ? c.peekAhead() : c.peek;
    if (c.isWord('VIEW', word)) throw SqlError.unsupported('views');
    if (c.isWord('TRIGGER', word)) throw SqlError.unsupported('triggers');
  }

  private parseCreateTable(): CreateTable {
    const c = this.c;
    const ifNotExists = this.acceptIfNotExists();
    const name = c.expectName();
    c.expectPunct('(');
    const columns: ColumnDef[] = [];
    const constraints: TableConstraint[] = [];
    do {
      if (c.acceptPhrase('PRIMARY', 'KEY')) {
        constraints.push({ kind: 'TablePrimaryKey', columns: this.parseIndexedColumns() });
      } else if (c.acceptWord('UNIQUE')) {
        constraints.push({ kind: 'TableUnique', columns: this.parseIndexedColumns() });
      } else if (constraints.length === 0) {
        columns.push(this.parseColumnDef());
      } else {
        throw c.syntaxError(); // columns come before table constraints
      }
    } while (c.acceptPunct(','));
    c.expectPunct(')');
    return { kind: 'CreateTable', ifNotExists, name, columns, constraints };
  }

  private parseColumnDef(): ColumnDef {
    const c = this.c;
    const name = c.expectName();
    const type = c.peek.kind === 'word' && c.isName() ? this.expr.parseTypeName() : null;
    const constraints: ColumnConstraint[] = [];
    for (;;) {
      if (c.acceptPhrase('PRIMARY', 'KEY')) {
        const order = this.acceptSortOrder();
        constraints.push({ kind: 'PrimaryKeyConstraint', order, autoincrement: c.acceptWord('AUTOINCREMENT') });
      } else if (c.acceptPhrase('NOT', 'NULL')) {
        constraints.push({ kind: 'NotNullConstraint' });
      } else if (c.acceptWord('UNIQUE')) {
        constraints.push({ kind: 'UniqueConstraint' });
      } else if (c.acceptWord('DEFAULT')) {
        constraints.push({ kind: 'DefaultConstraint', value: this.expr.parseDefaultValue() });
      } else {
        return { kind: 'ColumnDef', name, type, constraints };
      }
    }
  }

  /** (name [ASC|DESC], …) */
  private parseIndexedColumns(): IndexedColumn[] {
    const c = this.c;
    c.expectPunct('(');
    const columns: IndexedColumn[] = [];
    do columns.push({ kind: 'IndexedColumn', name: c.expectName(), order: this.acceptSortOrder() });
    while (c.acceptPunct(','));
    c.expectPunct(')');
    return columns;
  }

  private parseDrop(): DropTable | DropIndex {
    const c = this.c;
    c.expectWord('DROP');
    this.rejectViewOrTrigger();
    const kind = c.acceptWord('TABLE') ? 'DropTable' : 'DropIndex';
    if (kind === 'DropIndex') c.expectWord('INDEX');
    const ifExists = this.acceptIfExists();
    return { kind, ifExists, name: c.expectName() };
  }

  private parseInsert(): Insert {
    const c = this.c;
    let onConflict: Insert['onConflict'] = 'ABORT';
    if (c.acceptWord('REPLACE')) {
      onConflict = 'REPLACE';
    } else {
      c.expectWord('INSERT');
      if (c.acceptWord('OR')) {
        if (c.acceptWord('REPLACE')) {
          onConflict = 'REPLACE';
        } else {
          c.expectWord('IGNORE');
          onConflict = 'IGNORE';
        }
      }
    }
    c.expectWord('INTO');
    const table = c.expectName();
    let columns: string[] | null = null;
    if (c.acceptPunct('(')) {
      columns = [];
      do columns.push(c.expectName());
      while (c.acceptPunct(','));
      c.expectPunct(')');
    }
    if (c.isWord('SELECT')) return { kind: 'Insert', onConflict, table, columns, source: this.parseSelect() };
    c.expectWord('VALUES');
    const rows = [];
    do {
      c.expectPunct('(');
      rows.push(this.parseExprList());
      c.expectPunct(')');
    } while (c.acceptPunct(','));
    return { kind: 'Insert', onConflict, table, columns, source: { kind: 'Values', rows } };
  }

  private parseUpdate(): Update {
    const c = this.c;
    c.expectWord('UPDATE');
    const table = c.expectName();
    c.expectWord('SET');
    const assignments = [];
    do {
      const column = c.expectName();
      c.expectPunct('=');
      assignments.push({ kind: 'Assignment', column, value: this.expr.parse() } as const);
    } while (c.acceptPunct(','));
    return { kind: 'Update', table, assignments, where: this.parseWhere() };
  }

  private parseDelete(): Delete {
    const c = this.c;
    c.expectWord('DELETE');
    c.expectWord('FROM');
    const table = c.expectName();
    return { kind: 'Delete', table, where: this.parseWhere() };
  }

  private parseSelect(): Select {
    const c = this.c;
    c.expectWord('SELECT');
    const distinct = c.acceptWord('DISTINCT');
    if (!distinct) c.acceptWord('ALL');
    const columns: ResultColumn[] = [];
    do columns.push(this.parseResultColumn());
    while (c.acceptPunct(','));
    const from = c.acceptWord('FROM') ? this.parseFrom() : null;
    const where = this.parseWhere();
    const groupBy = c.acceptPhrase('GROUP', 'BY') ? this.parseExprList() : [];
    const having = c.acceptWord('HAVING') ? this.expr.parse() : null;
    const orderBy = c.acceptPhrase('ORDER', 'BY') ? this.parseOrderBy() : [];
    let limit = null;
    let offset = null;
    if (c.acceptWord('LIMIT')) {
      limit = this.expr.parse();
      if (c.acceptWord('OFFSET')) {
        offset = this.expr.parse();
      } else if (c.acceptPunct(',')) {
        offset = limit; // LIMIT m, n: skip m, take n
        limit = this.expr.parse();
      }
    }
    if (c.isWord('UNION') || c.isWord('INTERSECT') || c.isWord('EXCEPT')) throw SqlError.unsupported('compound SELECTs');
    return { kind: 'Select', distinct, columns, from, where, groupBy, having, orderBy, limit, offset };
  }

  /** `*`, `t.*`, or expr [[AS] alias]; an alias may be a string, as SQLite allows. */
  private parseResultColumn(): ResultColumn {
    const c = this.c;
    if (c.acceptPunct('*')) return { kind: 'AllColumns', table: null };
    if (c.isName() && c.isPunct('.', c.peekAhead(1)) && c.isPunct('*', c.peekAhead(2))) {
      const table = c.expectName();
      c.next();
      c.next();
      return { kind: 'AllColumns', table };
    }
    const start = c.peek.start;
    const expr = this.expr.parse();
    const text = c.textFrom(start);
    const hasAs = c.acceptWord('AS');
    let alias: string | null = null;
    if (c.peek.kind === 'string') alias = c.next().value;
    else if (hasAs || c.isName()) alias = c.expectName();
    return { kind: 'ExprColumn', expr, alias, text };
  }

  /** Tables joined left to right: `a, b`, `a CROSS JOIN b`, `a [INNER] JOIN b`, `a LEFT [OUTER] JOIN b`, each with an optional ON. */
  private parseFrom(): FromItem {
    const c = this.c;
    let from: FromItem = this.parseTableRef();
    for (;;) {
      const joinType = this.acceptJoinOperator();
      if (!joinType) return from;
      const right = this.parseTableRef();
      const on = c.acceptWord('ON') ? this.expr.parse() : null;
      from = { kind: 'Join', joinType, left: from, right, on };
    }
  }

  private acceptJoinOperator(): JoinType | null {
    const c = this.c;
    if (c.acceptPunct(',')) return 'COMMA';
    if (c.acceptPhrase('CROSS', 'JOIN')) return 'CROSS';
    if (c.acceptPhrase('INNER', 'JOIN') || c.acceptWord('JOIN')) return 'INNER';
    if (c.acceptWord('LEFT')) {
      c.acceptWord('OUTER');
      c.expectWord('JOIN');
      return 'LEFT';
    }
    return null;
  }

  private parseTableRef(): TableRef {
    const c = this.c;
    if (c.isPunct('(')) throw SqlError.unsupported('subqueries');
    const name = c.expectName();
    this.rejectIndexHint();
    const alias = c.acceptWord('AS') || c.isName() ? c.expectName() : null;
    this.rejectIndexHint();
    return { kind: 'TableRef', name, alias };
  }

  private parseWhere(): Expr | null {
    return this.c.acceptWord('WHERE') ? this.expr.parse() : null;
  }

  private parseOrderBy(): OrderingTerm[] {
    const terms: OrderingTerm[] = [];
    do terms.push({ kind: 'OrderingTerm', expr: this.expr.parse(), order: this.acceptSortOrder() });
    while (this.c.acceptPunct(','));
    return terms;
  }

  /** expr, … (at least one). */
  private parseExprList(): Expr[] {
    const list: Expr[] = [];
    do list.push(this.expr.parse());
    while (this.c.acceptPunct(','));
    return list;
  }

  private acceptSortOrder(): SortOrder | null {
    if (this.c.acceptWord('ASC')) return 'ASC';
    if (this.c.acceptWord('DESC')) return 'DESC';
    return null;
  }

  private acceptIfNotExists(): boolean {
    return this.c.isWord('IF') && this.c.isWord('NOT', this.c.peekAhead()) && this.c.acceptPhrase('IF', 'NOT', 'EXISTS');
  }

  private acceptIfExists(): boolean {
    return this.c.isWord('IF') && this.c.isWord('EXISTS', this.c.peekAhead()) && this.c.acceptPhrase('IF', 'EXISTS');
  }
}
