/**
 * A runner of SQLite's sqllogictest files against SqlSession, to measure
 * conformance. One MemoryKvTxn is the file's database; every record runs in
 * its own transaction over it, committed when a statement succeeds. A record
 * that fails with "… not supported" is skipped, and so is every later record
 * that names an object whose creation or write was skipped or failed, since
 * its data no longer matches SQLite's.
 */
import { SqlError, SqlSession, parseStatement } from '../../src/sql/index.js';
import type { ExecResult } from '../../src/sql/index.js';
import { MemoryKvTxn } from './memory-kv-txn.js';
import { formatValue, hashLine, orderedValues } from './sqllogic-format.js';
import { parseRecords } from './sqllogic-records.js';
import type { Expected, SltRecord } from './sqllogic-records.js';

export interface Mismatch {
  readonly where: string;
  readonly sql: string;
  readonly expected: string;
  readonly got: string;
}

export interface SltReport {
  passed: number;
  failed: number;
  /** Skipped records by reason: the executor's "not supported" message, or another. */
  readonly skipped: Map<string, number>;
  /** The first few failures. */
  readonly mismatches: Mismatch[];
  /** Why the run stopped before the file's end, if it did. */
  stoppedEarly?: string;
}

export interface SltOptions {
  /** The name failures are reported under. */
  readonly file: string;
  /** Run at most this many records (statements and queries). */
  readonly maxRecords?: number;
  /** Stop after this many milliseconds. */
  readonly timeLimitMs?: number;
  /** How many mismatches to keep. */
  readonly keepMismatches?: number;
}

export const NOT_FOR_SQLITE = 'skipif/onlyif: not run by SQLite';
export const TAINTED = 'names an object whose setup was skipped or failed';

type Outcome = { readonly ok: true } | { readonly ok: false; readonly expected: string; readonly got: string } | { readonly skip: string };

export async function runSqlLogic(text: string, options: SltOptions): Promise<SltReport> {
  const report: SltReport = { passed: 0, failed: 0, skipped: new Map(), mismatches: [] };
  const store = new MemoryKvTxn();
  const tainted = new Set<string>();
  const started = Date.now();
  let ran = 0;
  const skip = (reason: string): void => void report.skipped.set(reason, (report.skipped.get(reason) ?? 0) + 1);
  for (const { record, forSqlite } of parseRecords(text)) {
    if (record.kind === 'hash-threshold') continue;
    if (!forSqlite) {
      if (record.kind !== 'halt') skip(NOT_FOR_SQLITE);
      continue;
    }
    if (record.kind === 'halt') break;
    if (options.maxRecords !== undefined && ran >= options.maxRecords) {
      report.stoppedEarly = `record limit ${options.maxRecords}`;
      break;
    }
    if (options.timeLimitMs !== undefined && Date.now() - started > options.timeLimitMs) {
      report.stoppedEarly = `time limit ${options.timeLimitMs} ms`;
      break;
    }
    ran++;
    if (namesOf(record.sql).some((n) => tainted.has(n))) {
      skip(TAINTED);
      continue;
    }
    const outcome = await runRecord(store, record);
    if ('skip' in outcome) skip(outcome.skip);
    else if (outcome.ok) report.passed++;
    else {
      report.failed++;
      if (report.mismatches.length < (options.keepMismatches ?? 5)) {
        report.mismatches.push({ where: `${options.file}:${record.line}`, sql: record.sql, expected: outcome.expected, got: outcome.got });
      }
    }
    const lostWrite = record.kind === 'statement' && !record.expectError && !('ok' in outcome && outcome.ok);
    const target = lostWrite ? writeTarget(record.sql) : undefined;
    if (target) tainted.add(target);
  }
  return report;
}

type Runnable = Extract<SltRecord, { kind: 'statement' | 'query' }>;

async function runRecord(store: MemoryKvTxn, record: Runnable): Promise<Outcome> {
  const txn = new MemoryKvTxn(store);
  let result: ExecResult;
  try {
    result = await new SqlSession(txn).execute(parseStatement(record.sql));
  } catch (err) {
    if (err instanceof SqlError && /\bnot supported\b/.test(err.message)) return { skip: err.message };
    if (record.kind === 'statement' && record.expectError) return { ok: true };
    return { ok: false, expected: record.kind === 'query' ? 'a result' : 'success', got: describeError(err) };
  }
  if (record.kind === 'statement') {
    if (record.expectError) return { ok: false, expected: 'an error', got: 'success' };
    await txn.commit();
    return { ok: true };
  }
  return checkQuery(record, result);
}

function checkQuery(record: Extract<SltRecord, { kind: 'query' }>, result: ExecResult): Outcome {
  if (result.kind !== 'query') return { ok: false, expected: 'a query result', got: 'a statement result' };
  if (result.columns.length !== record.types.length) {
    return { ok: false, expected: `${record.types.length} columns`, got: `${result.columns.length} columns` };
  }
  const rows = result.rows.map((row) => row.map((v, i) => formatValue(v, record.types[i])));
  const values = orderedValues(rows, record.sort);
  const expected = expectedText(record.expected);
  const got = record.expected.kind === 'hash' ? hashLine(values) : values.join(' ');
  return expected === got ? { ok: true } : { ok: false, expected, got };
}

function expectedText(expected: Expected): string {
  return expected.kind === 'hash' ? `${expected.count} values hashing to ${expected.md5}` : expected.values.join(' ');
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Every word of the SQL in lower case: a table or view name among them is a use of it. */
function namesOf(sql: string): string[] {
  return sql.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? [];
}

const WRITE_TARGETS = [
  /^\s*CREATE\s+(?:TEMP(?:ORARY)?\s+)?(?:UNIQUE\s+)?(?:TABLE|VIEW|INDEX)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)/i,
  /^\s*CREATE\s+(?:TEMP(?:ORARY)?\s+)?TRIGGER\b[\s\S]*?\bON\s+(\w+)/i,
  /^\s*(?:INSERT|REPLACE)\s+(?:OR\s+\w+\s+)?INTO\s+(\w+)/i,
  /^\s*UPDATE\s+(?:OR\s+\w+\s+)?(\w+)/i,
  /^\s*(?:DELETE\s+FROM|DROP\s+(?:TABLE|VIEW|INDEX)\s+(?:IF\s+EXISTS\s+)?)\s*(\w+)/i,
];

/** The object a statement creates or writes (for a trigger, its table), if it is one of those. */
function writeTarget(sql: string): string | undefined {
  for (const re of WRITE_TARGETS) {
    const m = re.exec(sql);
    if (m) return m[1].toLowerCase();
  }
  return undefined;
}
