/**
 * rqlite's HTTP conventions for `/db/execute`, `/db/query` and `/db/request`
 * (../shared/CONTRACT.md §2.2): what a request body and its query parameters
 * mean, and how results are written back. Execution is elsewhere; this is
 * only the wire shape, so that real rqlite clients work unchanged.
 *
 * A body is a JSON array whose items are a SQL string, `[sql, param…]`
 * (positional `?`) or `[sql, {name: value}]` (named `:name`, `@name`,
 * `$name`). Anything else is a 400 and runs nothing. Results are JSON with
 * SQLite's 64-bit integers written in full (JSON.stringify cannot), BLOBs in
 * base64 as rqlite writes them.
 */
import { DbError } from '../common/index.js';

/** A bound parameter's value: JSON null, a number (integral → INTEGER), a string; true and false bind as 1 and 0. */
export type ParamValue = null | bigint | number | string;

export interface DbStatement {
  readonly sql: string;
  readonly positional: readonly ParamValue[];
  /** Named parameters by their name without the `:`, `@` or `$`. */
  readonly named: ReadonlyMap<string, ParamValue>;
}

/** How a read sees the data (contract §2.2): linearizable reads; weak reads the leader's applied state; none reads any replica. */
export type ReadLevel = 'linearizable' | 'weak' | 'none';

export interface DbOptions {
  readonly transaction: boolean;
  readonly timings: boolean;
  readonly pretty: boolean;
  readonly associative: boolean;
  readonly level: ReadLevel;
}

const badRequest = (message: string) => new DbError('BAD_REQUEST', message);

/** The statements of a request body; a DbError BAD_REQUEST if it is not such an array. */
export function parseDbBody(body: unknown): DbStatement[] {
  if (!Array.isArray(body)) throw badRequest('the body must be a JSON array of statements');
  return body.map((item: unknown, i) => {
    if (typeof item === 'string') return { sql: item, positional: [], named: new Map() };
    if (!Array.isArray(item) || item.length === 0 || typeof item[0] !== 'string') throw badRequest(`statement ${i}: expected a SQL string or [sql, params…]`);
    const [sql, ...rest] = item as [string, ...unknown[]];
    if (rest.length === 1 && isPlainObject(rest[0])) {
      const named = new Map<string, ParamValue>();
      for (const [name, v] of Object.entries(rest[0])) named.set(name.replace(/^[:@$]/, ''), paramOf(v, i, name));
      return { sql, positional: [], named };
    }
    return { sql, positional: rest.map((v, j) => paramOf(v, i, String(j + 1))), named: new Map() };
  });
}

/** The SQL of `GET /db/query?q=…` as a one-statement request. */
export function queryStatement(q: unknown): DbStatement[] {
  if (typeof q !== 'string' || q.length === 0) throw badRequest('GET /db/query needs the SQL in "q"');
  return [{ sql: q, positional: [], named: new Map() }];
}

const LEVELS: Record<string, ReadLevel> = { linearizable: 'linearizable', strong: 'linearizable', auto: 'linearizable', weak: 'weak', none: 'none', stale: 'none' };

/** The query parameters that matter (unknown ones are ignored, as rqlite does). */
export function parseDbOptions(query: Record<string, unknown>): DbOptions {
  const level = query.level === undefined ? 'linearizable' : LEVELS[String(query.level)];
  if (level === undefined) throw badRequest(`"level" must be one of ${Object.keys(LEVELS).join(', ')}`);
  return { transaction: flag(query.transaction), timings: flag(query.timings), pretty: flag(query.pretty), associative: flag(query.associative), level };
}

/** A flag given bare (`?pretty`) or with a value; `false` and `0` turn it off. */
function flag(v: unknown): boolean {
  if (v === undefined) return false;
  const s = String(v).toLowerCase();
  return s !== 'false' && s !== '0';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function paramOf(v: unknown, statement: number, name: string): ParamValue {
  if (v === null || typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'number') return Number.isInteger(v) && Number.isSafeInteger(v) ? BigInt(v) : v;
  throw badRequest(`statement ${statement}: parameter ${name} must be a string, number, boolean or null`);
}

// ---------------------------------------------------------------- results

/** A result value as the engine produces it: SQLite's five storage classes. */
export type ResultValue = null | bigint | number | string | Uint8Array;

export type StatementResult =
  | { readonly kind: 'execute'; readonly rowsAffected: number; readonly lastInsertId: bigint; readonly seconds: number }
  | { readonly kind: 'query'; readonly columns: readonly string[]; readonly types: readonly string[]; readonly rows: readonly (readonly ResultValue[])[]; readonly seconds: number }
  | { readonly kind: 'error'; readonly message: string; readonly seconds: number };

/** The response body for `results`, rqlite's shape in its plain or associative form. */
export function formatResults(results: readonly StatementResult[], opts: DbOptions, seconds: number): string {
  const items = results.map((r): JsonValue => {
    const time: JsonObject = opts.timings ? { time: r.seconds } : {};
    switch (r.kind) {
      case 'error':
        return { error: r.message, ...time };
      case 'execute':
        return { last_insert_id: r.lastInsertId, rows_affected: r.rowsAffected, ...time };
      case 'query': {
        if (opts.associative) {
          const types: JsonObject = Object.fromEntries(r.columns.map((c, i) => [c, r.types[i]]));
          return { types, rows: r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, jsonOf(row[i])]))), ...time };
        }
        // rqlite leaves "values" out when there are no rows.
        return { columns: [...r.columns], types: [...r.types], ...(r.rows.length > 0 ? { values: r.rows.map((row) => row.map(jsonOf)) } : {}), ...time };
      }
    }
  });
  return stringify({ results: items, ...(opts.timings ? { time: seconds } : {}) }, opts.pretty ? '    ' : '');
}

type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
interface JsonObject {
  [key: string]: JsonValue;
}

function jsonOf(v: ResultValue): JsonValue {
  return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : v;
}

/**
 * JSON.stringify with bigints written as their digits (an INTEGER beyond 2^53
 * stays exact) and infinities as ±1e999 (JSON has none; SQLite's shell writes
 * them so, and JSON readers take them back as ±Infinity).
 */
function stringify(value: JsonValue, indent: string, depth = 0): string {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return value > 0 ? '1e999' : '-1e999';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const pad = indent ? `\n${indent.repeat(depth + 1)}` : '';
  const end = indent ? `\n${indent.repeat(depth)}` : '';
  const sep = indent ? ': ' : ':';
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[${value.map((v) => pad + stringify(v, indent, depth + 1)).join(',')}${end}]`;
  const entries = Object.entries(value);
  return entries.length === 0 ? '{}' : `{${entries.map(([k, v]) => `${pad}${JSON.stringify(k)}${sep}${stringify(v, indent, depth + 1)}`).join(',')}${end}}`;
}
