/**
 * Name resolution and the RowContext of a statement: which column each
 * ColumnRef reads (resolved before any row is read, so an unknown name fails
 * even on an empty table, as SQLite's prepare does) and the bound parameters.
 */
import type { ColumnRef, Expr, Parameter } from '../ast.js';
import type { ColumnSchema, TableSchema } from '../catalog/index.js';
import type { SqlValue } from '../codec/index.js';
import { SqlError } from '../errors.js';
import type { Affinity, RowContext } from '../eval/index.js';
import { isAggregateCall } from '../eval/index.js';
import { collectColumnRefs, walk } from '../visit.js';

/** Parameter values: `named` by the name without its `:`, `@` or `$`. */
export interface Bindings {
  readonly positional: readonly SqlValue[];
  readonly named: ReadonlyMap<string, SqlValue>;
}

/** A table in FROM (or the target of UPDATE / DELETE), under the name it is referred to by. */
export interface TableScope {
  readonly table: TableSchema;
  /** The alias, else the table's name. */
  readonly name: string;
}

/** A column of the table, or the text of a double-quoted name that names no column (SQLite reads it as a string). */
type Resolved = { readonly column: number } | { readonly text: string };

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export class Scope {
  private readonly resolved = new Map<ColumnRef, Resolved>();

  constructor(
    readonly from: TableScope | null,
    private readonly bindings: Bindings,
  ) {}

  /** Resolves the column references of `exprs`; SQLite's "no such column" for one that names nothing. */
  bind(exprs: readonly (Expr | null)[]): void {
    for (const expr of exprs) {
      if (expr === null) continue;
      walk(expr, (n) => {
        if (n.kind === 'FunctionCall' && isAggregateCall(n)) throw SqlError.notYet('aggregates');
      });
      for (const ref of collectColumnRefs(expr)) this.resolved.set(ref, this.resolve(ref));
    }
  }

  /** The table column a bound reference reads, if it reads one. */
  columnOf(ref: ColumnRef): ColumnSchema | undefined {
    const r = this.resolved.get(ref);
    return r && 'column' in r && this.from ? this.from.table.columns[r.column] : undefined;
  }

  private resolve(ref: ColumnRef): Resolved {
    const from = this.from;
    if (from && (ref.table === null || same(ref.table, from.name))) {
      const column = from.table.columns.findIndex((c) => same(c.name, ref.column));
      if (column >= 0) return { column };
    }
    if (ref.table === null && ref.doubleQuoted) return { text: ref.column };
    throw new SqlError(`no such column: ${ref.table === null ? '' : `${ref.table}.`}${ref.column}`);
  }

  /** The context for evaluating the bound expressions over one row of the table (none without FROM). */
  row(values: readonly SqlValue[]): RowContext {
    const at = (ref: ColumnRef): Resolved => {
      const r = this.resolved.get(ref);
      if (!r) throw new Error(`column reference ${ref.column} was not bound`);
      return r;
    };
    return {
      column: (ref) => {
        const r = at(ref);
        return 'column' in r ? (values[r.column] ?? null) : r.text;
      },
      columnAffinity: (ref): Affinity => {
        const r = at(ref);
        return 'column' in r && this.from ? this.from.table.columns[r.column].affinity : 'NONE';
      },
      parameter: (p) => this.parameter(p),
      aggregate: () => {
        throw SqlError.notYet('aggregates');
      },
    };
  }

  /** SQLite binds a parameter with no value as NULL; a named one may also be given by its number. */
  private parameter(p: Parameter): SqlValue {
    const named = p.name === null ? undefined : this.bindings.named.get(p.name.slice(1));
    return named !== undefined ? named : (this.bindings.positional[p.index - 1] ?? null);
  }
}
