/**
 * The record format of SQLite's sqllogictest: records are runs of non-blank
 * lines; `#` lines are comments; `skipif <db>` / `onlyif <db>` lines come
 * before a record's header. A query's expected values follow a `----` line,
 * one per line, or as one line `N values hashing to <md5>`.
 */

export type SortMode = 'nosort' | 'rowsort' | 'valuesort';

export type Expected =
  | { readonly kind: 'values'; readonly values: readonly string[] }
  | { readonly kind: 'hash'; readonly count: number; readonly md5: string };

interface At {
  /** 1-based line of the record's header. */
  readonly line: number;
}

export type SltRecord =
  | (At & { readonly kind: 'statement'; readonly expectError: boolean; readonly sql: string })
  | (At & { readonly kind: 'query'; readonly types: string; readonly sort: SortMode; readonly sql: string; readonly expected: Expected })
  | (At & { readonly kind: 'hash-threshold'; readonly threshold: number })
  | (At & { readonly kind: 'halt' });

/** A record SQLite would run: no `skipif sqlite`, no `onlyif` another engine. */
export interface ParsedRecord {
  readonly record: SltRecord;
  readonly forSqlite: boolean;
}

const HASHED = /^(\d+) values hashing to ([0-9a-f]{32})$/;

export function parseRecords(text: string): ParsedRecord[] {
  const lines = text.split(/\r?\n/).map((l) => l.trimEnd());
  const out: ParsedRecord[] = [];
  let start = 0;
  while (start < lines.length) {
    let end = start;
    while (end < lines.length && lines[end] !== '') end++;
    const parsed = parseBlock(lines, start, end);
    if (parsed) out.push(parsed);
    start = end + 1;
  }
  return out;
}

function parseBlock(lines: readonly string[], start: number, end: number): ParsedRecord | undefined {
  let i = start;
  let forSqlite = true;
  for (; i < end; i++) {
    if (lines[i].startsWith('#')) continue;
    // A condition may carry a trailing comment: `onlyif sqlite # empty RHS`.
    const words = lines[i].split('#')[0].trim().split(/\s+/);
    if (words[0] === 'skipif' && words[1] === 'sqlite') forSqlite = false;
    else if (words[0] === 'onlyif' && words[1] !== 'sqlite') forSqlite = false;
    else if (words[0] !== 'skipif' && words[0] !== 'onlyif') break;
  }
  if (i >= end) return undefined;
  const header = lines[i].split(/\s+/);
  const line = i + 1;
  const body = lines.slice(i + 1, end).filter((l) => !l.startsWith('#'));
  const record = headerRecord(header, line, body);
  return record && { record, forSqlite };
}

function headerRecord(header: readonly string[], line: number, body: readonly string[]): SltRecord | undefined {
  switch (header[0]) {
    case 'statement':
      return { kind: 'statement', line, expectError: header[1] === 'error', sql: body.join('\n') };
    case 'query': {
      const divider = body.indexOf('----');
      const sql = (divider < 0 ? body : body.slice(0, divider)).join('\n');
      const results = divider < 0 ? [] : body.slice(divider + 1);
      const sort = header[2] === 'rowsort' || header[2] === 'valuesort' ? header[2] : 'nosort';
      return { kind: 'query', line, types: header[1], sort, sql, expected: expectedOf(results) };
    }
    case 'hash-threshold':
      return { kind: 'hash-threshold', line, threshold: Number(header[1]) };
    case 'halt':
      return { kind: 'halt', line };
    default:
      throw new Error(`line ${line}: unknown sqllogictest record "${header[0]}"`);
  }
}

function expectedOf(results: readonly string[]): Expected {
  const hashed = results.length === 1 ? HASHED.exec(results[0]) : null;
  if (hashed) return { kind: 'hash', count: Number(hashed[1]), md5: hashed[2] };
  return { kind: 'values', values: results };
}
