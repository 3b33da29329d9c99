/**
 * SELECT over one table or none: a full scan of the table's rows (point
 * lookups by primary key are the planner's next step), WHERE, the result
 * columns named and typed as SQLite and rqlite name them, DISTINCT, ORDER BY
 * (expressions, aliases, positions; NULLs first ascending), LIMIT / OFFSET.
 * Aggregates, GROUP BY and joins come later.
 */
import { latin1Of } from '../../common/index.js';
import type { Expr, OrderingTerm, Select } from '../ast.js';
import type { Catalog } from '../catalog/index.js';
import type { SqlValue } from '../codec/index.js';
import { compareValues, KeyWriter } from '../codec/index.js';
import { SqlError } from '../errors.js';
import { applyColumnAffinity, evaluate, truthOf } from '../eval/index.js';
import type { StatementWrites } from './kv.js';
import type { QueryResult } from './result.js';
import { readRows } from './rows.js';
import type { Bindings, TableScope } from './scope.js';
import { Scope } from './scope.js';

interface OutputColumn {
  readonly name: string;
  readonly type: string;
  readonly expr: Expr;
  readonly alias: string | null;
}

/** An ORDER BY term: a result column (by position or alias) or an expression over the row. */
type SortKey = { readonly output: number; readonly descending: boolean } | { readonly expr: Expr; readonly descending: boolean };

export async function executeSelect(kv: StatementWrites, catalog: Catalog, select: Select, bindings: Bindings): Promise<QueryResult> {
  if (select.groupBy.length > 0 || select.having) throw SqlError.notYet('GROUP BY clauses');
  const scope = new Scope(fromScope(catalog, select), bindings);
  const outputs = outputColumns(select, scope);
  const sortKeys = select.orderBy.map((term, i) => sortKey(term, i, outputs));
  scope.bind([select.where, ...outputs.map((o) => o.expr), ...sortKeys.map((k) => ('expr' in k ? k.expr : null))]);
  const { limit, offset } = limits(select, bindings);

  const sources = scope.from ? (await readRows(kv, scope.from.table)).map((r) => r.values) : [[]];
  let rows: { values: SqlValue[]; sort: SqlValue[] }[] = [];
  const seen = new Set<string>();
  for (const source of sources) {
    const row = scope.row(source);
    if (select.where && truthOf(evaluate(select.where, row)) !== true) continue;
    const values = outputs.map((o) => evaluate(o.expr, row));
    if (select.distinct) {
      const key = rowIdentity(values);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    rows.push({ values, sort: sortKeys.map((k) => ('expr' in k ? evaluate(k.expr, row) : values[k.output])) });
  }
  if (sortKeys.length > 0) rows.sort((a, b) => compareSortKeys(a.sort, b.sort, sortKeys));
  rows = rows.slice(offset, limit < 0 ? undefined : offset + limit);
  return { kind: 'query', columns: outputs.map((o) => o.name), types: outputs.map((o) => o.type), rows: rows.map((r) => r.values) };
}

function fromScope(catalog: Catalog, select: Select): TableScope | null {
  const from = select.from;
  if (from === null) return null;
  if (from.kind === 'Join') throw SqlError.notYet('joins');
  const table = catalog.table(from.name);
  if (!table) throw new SqlError(`no such table: ${from.name}`);
  return { table, name: from.alias ?? from.name };
}

/** The result columns, `*` expanded; a plain column is named after the table's column and typed with its declared type. */
function outputColumns(select: Select, scope: Scope): OutputColumn[] {
  const out: OutputColumn[] = [];
  for (const rc of select.columns) {
    if (rc.kind === 'AllColumns') {
      const from = scope.from;
      if (!from) throw new SqlError('no tables specified');
      if (rc.table !== null && rc.table.toLowerCase() !== from.name.toLowerCase()) throw new SqlError(`no such table: ${rc.table}`);
      from.table.columns.forEach((c) => out.push({ name: c.name, type: c.declaredType, expr: { kind: 'ColumnRef', table: null, column: c.name, doubleQuoted: false }, alias: null }));
      continue;
    }
    scope.bind([rc.expr]);
    const column = rc.expr.kind === 'ColumnRef' ? scope.columnOf(rc.expr) : undefined;
    out.push({ name: rc.alias ?? column?.name ?? rc.text, type: column?.declaredType ?? '', expr: rc.expr, alias: rc.alias });
  }
  return out;
}

function sortKey(term: OrderingTerm, i: number, outputs: readonly OutputColumn[]): SortKey {
  const descending = term.order === 'DESC';
  const { expr } = term;
  if (expr.kind === 'IntegerLiteral') {
    if (expr.value < 1n || expr.value > BigInt(outputs.length)) throw new SqlError(`${ordinal(i + 1)} ORDER BY term out of range - should be between 1 and ${outputs.length}`);
    return { output: Number(expr.value) - 1, descending };
  }
  if (expr.kind === 'ColumnRef' && expr.table === null) {
    const output = outputs.findIndex((o) => o.alias?.toLowerCase() === expr.column.toLowerCase());
    if (output >= 0) return { output, descending };
  }
  return { expr, descending };
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

function compareSortKeys(a: readonly SqlValue[], b: readonly SqlValue[], keys: readonly SortKey[]): number {
  for (let i = 0; i < keys.length; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return keys[i].descending ? -c : c;
  }
  return 0;
}

/** Equal for rows DISTINCT holds equal (1 and 1.0 alike): their key encodings. */
function rowIdentity(values: readonly SqlValue[]): string {
  const w = new KeyWriter();
  for (const v of values) w.value(v);
  return latin1Of(w.finish());
}

/** LIMIT and OFFSET: integers, or SQLite's "datatype mismatch"; a negative limit is none. */
function limits(select: Select, bindings: Bindings): { limit: number; offset: number } {
  const scope = new Scope(null, bindings);
  scope.bind([select.limit, select.offset]);
  const value = (expr: Expr | null, absent: number) => {
    if (expr === null) return absent;
    const v = applyColumnAffinity(evaluate(expr, scope.row([])), 'INTEGER');
    if (typeof v !== 'bigint') throw new SqlError('datatype mismatch');
    return Number(v);
  };
  return { limit: value(select.limit, -1), offset: Math.max(0, value(select.offset, 0)) };
}
