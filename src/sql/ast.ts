/**
 * The syntax tree of the SQL dialect (CONTRACT.md §2.2). Every node is
 * immutable and carries a `kind` discriminant, so consumers switch over it
 * exhaustively (visit.ts). Names keep the case they were written in; SQLite
 * compares them case-insensitively, which is the binder's business.
 *
 * Invariant: an expression tree is at most MAX_EXPR_DEPTH (1000) nodes high,
 * as in SQLite, so recursive consumers cannot overflow the stack.
 */

export type SortOrder = 'ASC' | 'DESC';

// ---------------------------------------------------------------- statements

export type Statement = CreateTable | DropTable | CreateIndex | DropIndex | Insert | Select | Update | Delete | ExplainQueryPlan;

/** CREATE TABLE [IF NOT EXISTS] name (column, …, [table constraint, …]). */
export interface CreateTable {
  readonly kind: 'CreateTable';
  readonly ifNotExists: boolean;
  readonly name: string;
  readonly columns: readonly ColumnDef[];
  readonly constraints: readonly TableConstraint[];
}

/** DROP TABLE [IF EXISTS] name. */
export interface DropTable {
  readonly kind: 'DropTable';
  readonly ifExists: boolean;
  readonly name: string;
}

/** CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table (column [ASC|DESC], …). */
export interface CreateIndex {
  readonly kind: 'CreateIndex';
  readonly unique: boolean;
  readonly ifNotExists: boolean;
  readonly name: string;
  readonly table: string;
  readonly columns: readonly IndexedColumn[];
}

/** DROP INDEX [IF EXISTS] name. */
export interface DropIndex {
  readonly kind: 'DropIndex';
  readonly ifExists: boolean;
  readonly name: string;
}

/** What INSERT does with a row that would break a primary key or UNIQUE constraint. */
export type ConflictAction = 'ABORT' | 'REPLACE' | 'IGNORE';

/** INSERT [OR REPLACE|OR IGNORE] INTO table [(column, …)] VALUES … | SELECT …; REPLACE INTO is INSERT OR REPLACE. */
export interface Insert {
  readonly kind: 'Insert';
  /** ABORT (the default) fails the statement. */
  readonly onConflict: ConflictAction;
  readonly table: string;
  /** null: all the table's columns, in their declared order. */
  readonly columns: readonly string[] | null;
  readonly source: Values | Select;
}

/** The rows of INSERT … VALUES (…), (…). */
export interface Values {
  readonly kind: 'Values';
  readonly rows: readonly (readonly Expr[])[];
}

/** SELECT [DISTINCT|ALL] … [FROM …] [WHERE …] [GROUP BY …] [HAVING …] [ORDER BY …] [LIMIT …]. */
export interface Select {
  readonly kind: 'Select';
  readonly distinct: boolean;
  readonly columns: readonly ResultColumn[];
  /** null: SELECT without FROM (one row). */
  readonly from: FromItem | null;
  readonly where: Expr | null;
  readonly groupBy: readonly Expr[];
  readonly having: Expr | null;
  readonly orderBy: readonly OrderingTerm[];
  readonly limit: Expr | null;
  /** Set only with a limit; `LIMIT m, n` is OFFSET m LIMIT n, as in SQLite. */
  readonly offset: Expr | null;
}

/** UPDATE table SET column = expr, … [WHERE …]. */
export interface Update {
  readonly kind: 'Update';
  readonly table: string;
  readonly assignments: readonly Assignment[];
  readonly where: Expr | null;
}

/** DELETE FROM table [WHERE …]. */
export interface Delete {
  readonly kind: 'Delete';
  readonly table: string;
  readonly where: Expr | null;
}

/** EXPLAIN QUERY PLAN select. */
export interface ExplainQueryPlan {
  readonly kind: 'ExplainQueryPlan';
  readonly select: Select;
}

// ------------------------------------------------------- parts of statements

/** A column of CREATE TABLE: name, optional type, constraints in written order. */
export interface ColumnDef {
  readonly kind: 'ColumnDef';
  readonly name: string;
  /** null: no declared type (SQLite's BLOB affinity). */
  readonly type: TypeName | null;
  readonly constraints: readonly ColumnConstraint[];
}

/** A declared type, as in a column definition or CAST(x AS type). */
export interface TypeName {
  readonly kind: 'TypeName';
  /** The type's words joined by one space ("VARCHAR", "DOUBLE PRECISION"): what affinity is read from. */
  readonly name: string;
  /** The type as written, size included ("VARCHAR(255)"): SQLite's declared type of the column. */
  readonly text: string;
}

export type ColumnConstraint = PrimaryKeyConstraint | NotNullConstraint | UniqueConstraint | DefaultConstraint;

/** PRIMARY KEY [ASC|DESC] [AUTOINCREMENT] on a column. */
export interface PrimaryKeyConstraint {
  readonly kind: 'PrimaryKeyConstraint';
  /** SQLite: an INTEGER PRIMARY KEY DESC is not an alias of the rowid, so the order is kept. */
  readonly order: SortOrder | null;
  readonly autoincrement: boolean;
}

/** NOT NULL on a column. */
export interface NotNullConstraint {
  readonly kind: 'NotNullConstraint';
}

/** UNIQUE on a column. */
export interface UniqueConstraint {
  readonly kind: 'UniqueConstraint';
}

/** DEFAULT literal, signed number or (expr) on a column. */
export interface DefaultConstraint {
  readonly kind: 'DefaultConstraint';
  readonly value: Expr;
}

export type TableConstraint = TablePrimaryKey | TableUnique;

/** PRIMARY KEY (column, …) after the columns of CREATE TABLE. */
export interface TablePrimaryKey {
  readonly kind: 'TablePrimaryKey';
  readonly columns: readonly IndexedColumn[];
}

/** UNIQUE (column, …) after the columns of CREATE TABLE. */
export interface TableUnique {
  readonly kind: 'TableUnique';
  readonly columns: readonly IndexedColumn[];
}

/** A column of an index or of a table's PRIMARY KEY / UNIQUE constraint. */
export interface IndexedColumn {
  readonly kind: 'IndexedColumn';
  readonly name: string;
  readonly order: SortOrder | null;
}

export type ResultColumn = AllColumns | ExprColumn;

/** `*`, or `t.*` when `table` is set. */
export interface AllColumns {
  readonly kind: 'AllColumns';
  readonly table: string | null;
}

/** An expression of the select list, with its alias if any. */
export interface ExprColumn {
  readonly kind: 'ExprColumn';
  readonly expr: Expr;
  readonly alias: string | null;
  /** The expression as written: SQLite names an unaliased non-column result after it ("a+1"). */
  readonly text: string;
}

export type FromItem = TableRef | Join;

/** A table in FROM: name [[AS] alias]. */
export interface TableRef {
  readonly kind: 'TableRef';
  readonly name: string;
  readonly alias: string | null;
}

/** `a, b`, `a CROSS JOIN b`, `a [INNER] JOIN b` or `a LEFT [OUTER] JOIN b`; joins nest to the left. */
export type JoinType = 'COMMA' | 'CROSS' | 'INNER' | 'LEFT';

/** Two FROM items joined; `on` is the ON condition, if any (SQLite allows it on every join type). */
export interface Join {
  readonly kind: 'Join';
  readonly joinType: JoinType;
  readonly left: FromItem;
  readonly right: TableRef;
  readonly on: Expr | null;
}

/** A term of ORDER BY: an expression, an alias or a 1-based column position. */
export interface OrderingTerm {
  readonly kind: 'OrderingTerm';
  readonly expr: Expr;
  readonly order: SortOrder | null;
}

/** column = expr in UPDATE … SET. */
export interface Assignment {
  readonly kind: 'Assignment';
  readonly column: string;
  readonly value: Expr;
}

// -------------------------------------------------------------- expressions

export type Expr =
  | IntegerLiteral
  | RealLiteral
  | StringLiteral
  | BlobLiteral
  | NullLiteral
  | BooleanLiteral
  | ColumnRef
  | Parameter
  | Unary
  | Binary
  | IsNull
  | InList
  | Between
  | Like
  | Case
  | Cast
  | FunctionCall;

/** 42, 0x2A: a 64-bit integer (a decimal beyond 2^63-1 is a RealLiteral, as in SQLite). */
export interface IntegerLiteral {
  readonly kind: 'IntegerLiteral';
  readonly value: bigint;
}

/** 1.5, .5, 1e5. */
export interface RealLiteral {
  readonly kind: 'RealLiteral';
  readonly value: number;
}

/** 'text', with '' undone. */
export interface StringLiteral {
  readonly kind: 'StringLiteral';
  readonly value: string;
}

/** X'0aff'. */
export interface BlobLiteral {
  readonly kind: 'BlobLiteral';
  /** An even number of hex digits, as written. */
  readonly hex: string;
}

/** NULL. */
export interface NullLiteral {
  readonly kind: 'NullLiteral';
}

/** TRUE or FALSE (SQLite's 1 and 0). */
export interface BooleanLiteral {
  readonly kind: 'BooleanLiteral';
  readonly value: boolean;
}

/** column or table.column. */
export interface ColumnRef {
  readonly kind: 'ColumnRef';
  readonly table: string | null;
  readonly column: string;
  /**
   * An unqualified "name": SQLite reads it as a string literal when no column
   * has that name, so the binder needs to know.
   */
  readonly doubleQuoted: boolean;
}

/** ?, ?NNN, :name, @name or $name. */
export interface Parameter {
  readonly kind: 'Parameter';
  /** The name with its prefix (":id"), or null for ? and ?NNN. */
  readonly name: string | null;
  /**
   * SQLite's 1-based parameter number: ? takes the largest number so far + 1,
   * ?NNN takes NNN, a name keeps the number of its first occurrence.
   */
  readonly index: number;
}

export type UnaryOperator = '-' | '+' | '~' | 'NOT';

/** -x, +x, ~x, NOT x. */
export interface Unary {
  readonly kind: 'Unary';
  readonly op: UnaryOperator;
  readonly operand: Expr;
}

/** `==` is read as `=` and `<>` as `!=`; the rest are as written. */
export type BinaryOperator = '||' | '*' | '/' | '%' | '+' | '-' | '<<' | '>>' | '&' | '|' | '<' | '<=' | '>' | '>=' | '=' | '!=' | 'IS' | 'IS NOT' | 'AND' | 'OR';

/** left op right. */
export interface Binary {
  readonly kind: 'Binary';
  readonly op: BinaryOperator;
  readonly left: Expr;
  readonly right: Expr;
}

/** x IS NULL, x ISNULL (not: false); x IS NOT NULL, x NOTNULL, x NOT NULL (not: true). */
export interface IsNull {
  readonly kind: 'IsNull';
  readonly not: boolean;
  readonly operand: Expr;
}

/** x [NOT] IN (item, …); the list may be empty, as in SQLite. */
export interface InList {
  readonly kind: 'InList';
  readonly not: boolean;
  readonly operand: Expr;
  readonly items: readonly Expr[];
}

/** x [NOT] BETWEEN low AND high. */
export interface Between {
  readonly kind: 'Between';
  readonly not: boolean;
  readonly operand: Expr;
  readonly low: Expr;
  readonly high: Expr;
}

/** x [NOT] LIKE pattern [ESCAPE escape]. */
export interface Like {
  readonly kind: 'Like';
  readonly not: boolean;
  readonly operand: Expr;
  readonly pattern: Expr;
  readonly escape: Expr | null;
}

/** CASE [operand] WHEN … THEN … [ELSE …] END. */
export interface Case {
  readonly kind: 'Case';
  /** null: each WHEN is a condition; otherwise each WHEN is compared with it. */
  readonly operand: Expr | null;
  readonly whens: readonly CaseWhen[];
  readonly otherwise: Expr | null;
}

/** WHEN when THEN then, in a CASE. */
export interface CaseWhen {
  readonly kind: 'CaseWhen';
  readonly when: Expr;
  readonly then: Expr;
}

/** CAST(operand AS type). */
export interface Cast {
  readonly kind: 'Cast';
  readonly operand: Expr;
  readonly type: TypeName;
}

/** name([DISTINCT|ALL] arg, …) or name(*); which names exist is the binder's business. */
export interface FunctionCall {
  readonly kind: 'FunctionCall';
  readonly name: string;
  readonly distinct: boolean;
  /** count(*): `star` is true and `args` is empty. */
  readonly star: boolean;
  readonly args: readonly Expr[];
}

/** Every node of the tree. */
export type Node =
  | Statement
  | Values
  | ColumnDef
  | TypeName
  | ColumnConstraint
  | TableConstraint
  | IndexedColumn
  | ResultColumn
  | FromItem
  | OrderingTerm
  | Assignment
  | Expr
  | CaseWhen;
