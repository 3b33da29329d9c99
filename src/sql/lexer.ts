/**
 * The tokenizer, after SQLite's tokenize.c: it skips whitespace and comments
 * (`--` to the end of the line, `/* … *\/` to its end or the end of the
 * input) and returns one token per call, so a bad character later in the text
 * does not hide an earlier syntax error, as in SQLite.
 */
import { SqlError } from './errors.js';

export type TokenKind =
  /** A bare name or keyword; `value` is upper-cased for keyword matching. */
  | 'word'
  /** "x", [x] or `x`; `value` is the name with the quoting undone. */
  | 'quoted'
  /** 'x'; `value` is the text with '' undone. */
  | 'string'
  /** X'0A1b'; `value` is the hex digits. */
  | 'blob'
  | 'integer'
  | 'hex'
  | 'real'
  /** ?, ?NNN, :name, @name, $name; `value` is the text. */
  | 'parameter'
  /** An operator or punctuation; `value` is the text. */
  | 'punct'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  readonly value: string;
  /** The token as written (SQLite quotes it in `near "…"` messages). */
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

const CH_0 = 48;
const CH_9 = 57;

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** SQLite's IdChar: letters, digits, `_`, `$` and every non-ASCII character. */
function isIdChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 95 || c === 36 || c > 127;
}

function isIdStart(c: number): boolean {
  return isIdChar(c) && !isDigit(c) && c !== 36;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Two-character operators win over their first character (`<=` over `<`); `!` alone is not a token. */
const TWO_CHAR_OPERATORS = new Set(['||', '<=', '<>', '<<', '>=', '>>', '==', '!=']);
const ONE_CHAR_OPERATORS = new Set(['(', ')', ';', ',', '.', '+', '-', '*', '/', '%', '=', '<', '>', '&', '|', '~']);

export class Lexer {
  private pos = 0;

  constructor(private readonly sql: string) {}

  next(): Token {
    this.skipSpaceAndComments();
    const sql = this.sql;
    const start = this.pos;
    if (start >= sql.length) return this.token('eof', start, start, '');
    const c = sql.charCodeAt(start);
    const c1 = sql.charCodeAt(start + 1);
    if ((c === 120 || c === 88) && c1 === 39) return this.blob(start); // x'…'
    if (isIdStart(c)) return this.word(start);
    if (isDigit(c) || (c === 46 && isDigit(c1))) return this.number(start);
    switch (sql[start]) {
      case "'":
        return this.quoted(start, "'", 'string');
      case '"':
      case '`':
        return this.quoted(start, sql[start], 'quoted');
      case '[':
        return this.bracketed(start);
      case '?':
        return this.positionalParameter(start);
      case ':':
      case '@':
      case '$':
        return this.namedParameter(start);
    }
    const two = sql.slice(start, start + 2);
    if (TWO_CHAR_OPERATORS.has(two)) return this.token('punct', start, start + 2, two);
    if (ONE_CHAR_OPERATORS.has(sql[start])) return this.token('punct', start, start + 1, sql[start]);
    throw SqlError.unrecognizedToken(sql[start]);
  }

  private skipSpaceAndComments(): void {
    const sql = this.sql;
    for (;;) {
      const c = sql.charCodeAt(this.pos);
      if (isSpace(c)) {
        this.pos++;
      } else if (sql.startsWith('--', this.pos)) {
        const eol = sql.indexOf('\n', this.pos);
        this.pos = eol < 0 ? sql.length : eol + 1;
      } else if (sql.startsWith('/*', this.pos)) {
        const close = sql.indexOf('*/', this.pos + 2);
        this.pos = close < 0 ? sql.length : close + 2;
      } else {
        return;
      }
    }
  }

  private token(kind: TokenKind, start: number, end: number, value: string): Token {
    this.pos = end;
    return { kind, value, text: this.sql.slice(start, end), start, end };
  }

  private scanWhile(from: number, pred: (c: number) => boolean): number {
    let i = from;
    while (i < this.sql.length && pred(this.sql.charCodeAt(i))) i++;
    return i;
  }

  private word(start: number): Token {
    const end = this.scanWhile(start, isIdChar);
    return this.token('word', start, end, this.sql.slice(start, end).toUpperCase());
  }

  /** Decimal, real (1.5, .5, 5., 1e5) or hex (0x1F); a name glued to a decimal is illegal ("12abc"). */
  private number(start: number): Token {
    const sql = this.sql;
    if (sql[start] === '0' && (sql[start + 1] === 'x' || sql[start + 1] === 'X') && isHexDigit(sql.charCodeAt(start + 2))) {
      const end = this.scanWhile(start + 2, isHexDigit);
      return this.token('hex', start, end, sql.slice(start, end));
    }
    let kind: TokenKind = 'integer';
    let i = this.scanWhile(start, isDigit);
    if (sql[i] === '.') {
      kind = 'real';
      i = this.scanWhile(i + 1, isDigit);
    }
    if (sql[i] === 'e' || sql[i] === 'E') {
      const digitsAt = sql[i + 1] === '+' || sql[i + 1] === '-' ? i + 2 : i + 1;
      if (isDigit(sql.charCodeAt(digitsAt))) {
        kind = 'real';
        i = this.scanWhile(digitsAt, isDigit);
      }
    }
    if (isIdChar(sql.charCodeAt(i))) throw SqlError.unrecognizedToken(sql.slice(start, this.scanWhile(i, isIdChar)));
    return this.token(kind, start, i, sql.slice(start, i));
  }

  /** 'string', "name" or `name`: a doubled quote stands for itself. */
  private quoted(start: number, quote: string, kind: 'string' | 'quoted'): Token {
    const sql = this.sql;
    let i = start + 1;
    for (;;) {
      const close = sql.indexOf(quote, i);
      if (close < 0) throw SqlError.unrecognizedToken(sql.slice(start));
      if (sql[close + 1] !== quote) {
        const body = sql.slice(start + 1, close);
        return this.token(kind, start, close + 1, body.includes(quote) ? body.replaceAll(quote + quote, quote) : body);
      }
      i = close + 2;
    }
  }

  /** [name]: SQL Server's quoting, which SQLite accepts; no escape inside. */
  private bracketed(start: number): Token {
    const close = this.sql.indexOf(']', start + 1);
    if (close < 0) throw SqlError.unrecognizedToken(this.sql.slice(start));
    return this.token('quoted', start, close + 1, this.sql.slice(start + 1, close));
  }

  /** X'hex': an even number of hex digits, else the whole thing is an unrecognized token. */
  private blob(start: number): Token {
    const sql = this.sql;
    const digitsEnd = this.scanWhile(start + 2, isHexDigit);
    const digits = sql.slice(start + 2, digitsEnd);
    if (sql[digitsEnd] === "'" && digits.length % 2 === 0) return this.token('blob', start, digitsEnd + 1, digits);
    const close = sql.indexOf("'", digitsEnd);
    throw SqlError.unrecognizedToken(sql.slice(start, close < 0 ? sql.length : close + 1));
  }

  private positionalParameter(start: number): Token {
    const end = this.scanWhile(start + 1, isDigit);
    return this.token('parameter', start, end, this.sql.slice(start, end));
  }

  private namedParameter(start: number): Token {
    const end = this.scanWhile(start + 1, isIdChar);
    if (end === start + 1) throw SqlError.unrecognizedToken(this.sql[start]);
    return this.token('parameter', start, end, this.sql.slice(start, end));
  }
}
