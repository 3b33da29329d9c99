/**
 * x LIKE pattern [ESCAPE e] (func.c likeFunc and patternCompare): `%` matches
 * any run of characters, `_` one character, the escape character makes the
 * next one literal. Case is ignored for ASCII letters only, as in SQLite
 * without ICU.
 */
import type { SqlValue } from '../codec/index.js';
import { SqlError } from '../errors.js';
import { textOf, untilNul } from './text.js';

/** SQLITE_MAX_LIKE_PATTERN_LENGTH, in bytes. */
const MAX_PATTERN_BYTES = 50000;

type PatternItem = { readonly kind: 'any' } | { readonly kind: 'one' } | { readonly kind: 'char'; readonly char: string } | { readonly kind: 'never' };

/**
 * `escape` is undefined when there is no ESCAPE clause. The checks run in
 * likeFunc's order: a BLOB operand never matches (SQLITE_LIKE_DOESNT_MATCH_BLOBS,
 * one of SQLite's recommended options and set in the reference sqlite3), then
 * the pattern's size and the escape are checked, and only then a NULL gives NULL.
 */
export function like(value: SqlValue, pattern: SqlValue, escape: SqlValue | undefined): SqlValue {
  if (value instanceof Uint8Array || pattern instanceof Uint8Array) return 0n;
  const text = textOf(value);
  const pat = textOf(pattern);
  if (Buffer.byteLength(pat ?? '') > MAX_PATTERN_BYTES) throw new SqlError('LIKE or GLOB pattern too complex');
  let escapeChar: string | null = null;
  if (escape !== undefined) {
    const e = textOf(escape);
    if (e === null) return null;
    const chars = [...untilNul(e)];
    if (chars.length !== 1) throw new SqlError('ESCAPE expression must be a single character');
    escapeChar = chars[0];
  }
  if (text === null || pat === null) return null;
  return matches([...untilNul(text)], compile(untilNul(pat), escapeChar)) ? 1n : 0n;
}

/** The pattern as items; an escape character makes `%` or `_` ordinary when it is one of them. */
function compile(pattern: string, escape: string | null): PatternItem[] {
  const items: PatternItem[] = [];
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === escape) {
      i++;
      // A trailing escape character matches nothing, as in SQLite.
      items.push(i < chars.length ? { kind: 'char', char: chars[i] } : { kind: 'never' });
    } else if (c === '%') items.push({ kind: 'any' });
    else if (c === '_') items.push({ kind: 'one' });
    else items.push({ kind: 'char', char: c });
  }
  return items;
}

function foldAscii(c: string): string {
  return c.length === 1 && c >= 'A' && c <= 'Z' ? c.toLowerCase() : c;
}

/** Runs the pattern as an automaton over the text: the set of text positions reachable after each item. */
function matches(text: readonly string[], items: readonly PatternItem[]): boolean {
  let reachable = new Array<boolean>(text.length + 1).fill(false);
  reachable[0] = true;
  for (const item of items) {
    const next = new Array<boolean>(text.length + 1).fill(false);
    let any = false;
    for (let i = 0; i <= text.length; i++) {
      if (item.kind === 'any') {
        any ||= reachable[i];
        next[i] = any;
      } else if (reachable[i] && i < text.length) {
        if (item.kind === 'one' || (item.kind === 'char' && foldAscii(item.char) === foldAscii(text[i]))) next[i + 1] = true;
      }
    }
    reachable = next;
  }
  return reachable[text.length];
}
