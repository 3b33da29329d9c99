/**
 * The parser's view of the token stream: the current token, one token of
 * lookahead, keyword and punctuation matching, and SQLite's syntax errors.
 */
import { SqlError } from './errors.js';
import type { Token } from './lexer.js';
import { Lexer } from './lexer.js';

/**
 * Keywords that cannot be a bare name (a table, column or alias): SQLite's
 * keywords without a fallback to an identifier, plus the join words, so that
 * `FROM a LEFT JOIN b` never reads LEFT as an alias. Other keywords (KEY, ASC,
 * IF, REPLACE, OFFSET, …) stay usable as names, as in SQLite. A reserved word
 * can still be a name when quoted.
 */
const RESERVED = new Set([
  'ALL', 'AND', 'AS', 'BETWEEN', 'BY', 'CASE', 'CAST', 'CHECK', 'COLLATE', 'CONSTRAINT', 'CREATE', 'CROSS',
  'DEFAULT', 'DELETE', 'DISTINCT', 'DROP', 'ELSE', 'ESCAPE', 'EXCEPT', 'EXISTS', 'FOREIGN', 'FROM', 'FULL',
  'GROUP', 'HAVING', 'IN', 'INDEX', 'INNER', 'INSERT', 'INTERSECT', 'INTO', 'IS', 'ISNULL', 'JOIN', 'LEFT',
  'LIKE', 'LIMIT', 'NATURAL', 'NOT', 'NOTNULL', 'NULL', 'ON', 'OR', 'ORDER', 'OUTER', 'PRIMARY', 'REFERENCES',
  'RIGHT', 'SELECT', 'SET', 'TABLE', 'THEN', 'UNION', 'UNIQUE', 'UPDATE', 'USING', 'VALUES', 'WHEN', 'WHERE',
  'WITH',
]);

export class Cursor {
  private readonly lexer: Lexer;
  private current: Token;
  /** Tokens lexed past the current one by peekAhead. */
  private readonly ahead: Token[] = [];
  /** Where the last consumed token ends: the end of a span being recorded. */
  private lastEnd = 0;

  constructor(readonly sql: string) {
    this.lexer = new Lexer(sql);
    this.current = this.lexer.next();
  }

  get peek(): Token {
    return this.current;
  }

  /** The n-th token after the current one. */
  peekAhead(n = 1): Token {
    while (this.ahead.length < n) this.ahead.push(this.lexer.next());
    return this.ahead[n - 1];
  }

  next(): Token {
    const t = this.current;
    this.lastEnd = t.end;
    this.current = this.ahead.length > 0 ? this.ahead.shift()! : this.lexer.next();
    return t;
  }

  atEnd(): boolean {
    return this.current.kind === 'eof';
  }

  /** The source text from `start` to the end of the last consumed token. */
  textFrom(start: number): string {
    return this.sql.slice(start, this.lastEnd);
  }

  isWord(keyword: string, token = this.current): boolean {
    return token.kind === 'word' && token.value === keyword;
  }

  acceptWord(keyword: string): boolean {
    if (!this.isWord(keyword)) return false;
    this.next();
    return true;
  }

  expectWord(keyword: string): void {
    if (!this.acceptWord(keyword)) throw this.syntaxError();
  }

  /** A phrase such as GROUP BY: absent if its first word is, required in full once that is seen. */
  acceptPhrase(first: string, ...rest: string[]): boolean {
    if (!this.acceptWord(first)) return false;
    for (const keyword of rest) this.expectWord(keyword);
    return true;
  }

  isPunct(p: string, token = this.current): boolean {
    return token.kind === 'punct' && token.value === p;
  }

  acceptPunct(p: string): boolean {
    if (!this.isPunct(p)) return false;
    this.next();
    return true;
  }

  expectPunct(p: string): void {
    if (!this.acceptPunct(p)) throw this.syntaxError();
  }

  /** Whether the token can be a name: quoted, or a bare word that is not reserved. */
  isName(token = this.current): boolean {
    return token.kind === 'quoted' || (token.kind === 'word' && !RESERVED.has(token.value));
  }

  /** A table, column, index or alias name, as written (quotes undone). */
  expectName(): string {
    if (!this.isName()) throw this.syntaxError();
    return nameOf(this.next());
  }

  /** SQLite's error for an unexpected token: `near "X": syntax error`, or `incomplete input` at the end. */
  syntaxError(token = this.current): SqlError {
    return token.kind === 'eof' ? SqlError.incompleteInput() : SqlError.syntax(token.text);
  }
}

/** The name a word or quoted token stands for. */
export function nameOf(t: Token): string {
  return t.kind === 'quoted' ? t.value : t.text;
}
