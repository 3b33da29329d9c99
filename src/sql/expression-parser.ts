/**
 * Expressions, by precedence climbing (a Pratt parser) with SQLite's
 * precedence, lowest first (https://www.sqlite.org/lang_expr.html, parse.y):
 *
 *   OR < AND < NOT x < = == != <> IS IN LIKE BETWEEN ISNULL NOTNULL
 *      < < <= > >= < & | << >> < + - < * / % < || < unary - + ~
 *
 * Binary operators are left-associative and a chain of them is a loop, not a
 * recursion per operator. Recursion happens only for nesting (parentheses,
 * prefix operators, arguments), and is bounded: `depth` counts it, and each
 * node's height is checked against SQLite's limit of 1000.
 */
import type { BinaryOperator, Expr, FunctionCall, Parameter, TypeName, UnaryOperator } from './ast.js';
import type { Cursor } from './cursor.js';
import { nameOf } from './cursor.js';
import { MAX_EXPR_DEPTH, SqlError } from './errors.js';
import type { Token } from './lexer.js';

const Prec = {
  Or: 1,
  And: 2,
  Not: 3,
  Equality: 4,
  Comparison: 5,
  Bitwise: 6,
  Additive: 7,
  Multiplicative: 8,
  Concat: 9,
  Unary: 10,
} as const;

const PUNCT_OPERATORS: ReadonlyMap<string, readonly [BinaryOperator, number]> = new Map([
  ['||', ['||', Prec.Concat]],
  ['*', ['*', Prec.Multiplicative]],
  ['/', ['/', Prec.Multiplicative]],
  ['%', ['%', Prec.Multiplicative]],
  ['+', ['+', Prec.Additive]],
  ['-', ['-', Prec.Additive]],
  ['<<', ['<<', Prec.Bitwise]],
  ['>>', ['>>', Prec.Bitwise]],
  ['&', ['&', Prec.Bitwise]],
  ['|', ['|', Prec.Bitwise]],
  ['<', ['<', Prec.Comparison]],
  ['<=', ['<=', Prec.Comparison]],
  ['>', ['>', Prec.Comparison]],
  ['>=', ['>=', Prec.Comparison]],
  ['=', ['=', Prec.Equality]],
  ['==', ['=', Prec.Equality]],
  ['!=', ['!=', Prec.Equality]],
  ['<>', ['!=', Prec.Equality]],
]);

const PREFIX_OPERATORS: ReadonlyMap<string, UnaryOperator> = new Map([
  ['-', '-'],
  ['+', '+'],
  ['~', '~'],
]);

/**
 * Keywords that continue an expression at the equality level: x IS y, x IN (…),
 * x LIKE y, … and NOT, which must then be NOT IN, NOT LIKE, NOT BETWEEN or
 * NOT NULL (else the error is at the word after NOT, as in SQLite).
 */
const EQUALITY_WORDS = new Set(['IS', 'IN', 'LIKE', 'BETWEEN', 'ISNULL', 'NOTNULL', 'NOT']);

const INT64_MAX = 2n ** 63n - 1n;
/** SQLite's SQLITE_MAX_VARIABLE_NUMBER default. */
const MAX_PARAMETER_NUMBER = 32766;

/** Parses the expressions of one statement; parameters are numbered across that statement. */
export class ExpressionParser {
  private depth = 0;
  /** The height of each composite node built so far (a leaf is 1). */
  private readonly heights = new WeakMap<Expr, number>();
  private readonly namedParameters = new Map<string, number>();
  private largestParameter = 0;

  constructor(private readonly c: Cursor) {}

  /** An expression whose operators bind at least as tightly as `minPrec`. */
  parse(minPrec: number = Prec.Or): Expr {
    if (++this.depth > MAX_EXPR_DEPTH) throw SqlError.tooDeep();
    let left = this.parsePrefix();
    for (;;) {
      const prec = this.infixPrecedence();
      if (prec < minPrec) break;
      left = this.parseInfix(left, prec);
    }
    this.depth--;
    return left;
  }

  /** A type name: words, then optionally (n) or (n, m); as in CAST(x AS type) and column definitions. */
  parseTypeName(): TypeName {
    const c = this.c;
    const start = c.peek.start;
    const words: string[] = [];
    while (c.peek.kind === 'word' && c.isName()) words.push(c.next().text);
    if (words.length === 0) throw c.syntaxError();
    if (c.acceptPunct('(')) {
      this.parseSignedNumber();
      if (c.acceptPunct(',')) this.parseSignedNumber();
      c.expectPunct(')');
    }
    return { kind: 'TypeName', name: words.join(' '), text: c.textFrom(start) };
  }

  /** DEFAULT's value: a literal, a signed number or a parenthesised expression. */
  parseDefaultValue(): Expr {
    const c = this.c;
    if (c.acceptPunct('(')) {
      const e = this.parse();
      c.expectPunct(')');
      return e;
    }
    if (c.isPunct('-') || c.isPunct('+')) return this.parseSignedNumber();
    const literal = this.literalOf(c.peek);
    if (!literal) throw c.syntaxError();
    c.next();
    return literal;
  }

  /** The precedence of the infix operator at the cursor, or 0 when there is none. */
  private infixPrecedence(): number {
    const t = this.c.peek;
    if (t.kind === 'punct') return PUNCT_OPERATORS.get(t.value)?.[1] ?? 0;
    if (t.kind !== 'word') return 0;
    if (t.value === 'OR') return Prec.Or;
    if (t.value === 'AND') return Prec.And;
    return EQUALITY_WORDS.has(t.value) ? Prec.Equality : 0;
  }

  private parseInfix(left: Expr, prec: number): Expr {
    const c = this.c;
    const t = c.next();
    if (t.kind === 'punct') {
      const [op] = PUNCT_OPERATORS.get(t.value)!;
      const right = this.parse(prec + 1);
      return this.node({ kind: 'Binary', op, left, right }, [left, right]);
    }
    switch (t.value) {
      case 'OR':
      case 'AND': {
        const right = this.parse(prec + 1);
        return this.node({ kind: 'Binary', op: t.value === 'OR' ? 'OR' : 'AND', left, right }, [left, right]);
      }
      case 'ISNULL':
        return this.node({ kind: 'IsNull', not: false, operand: left }, [left]);
      case 'NOTNULL':
        return this.node({ kind: 'IsNull', not: true, operand: left }, [left]);
      case 'IS':
        return this.parseIs(left);
    }
    const not = t.value === 'NOT';
    const keyword = not ? c.next() : t;
    switch (keyword.kind === 'word' ? keyword.value : '') {
      case 'NULL':
        return this.node({ kind: 'IsNull', not: true, operand: left }, [left]);
      case 'IN':
        return this.parseInList(left, not);
      case 'BETWEEN': {
        // The low bound stops at AND; the high bound at the next equality-level operator (parse.y).
        const low = this.parse(Prec.Not);
        c.expectWord('AND');
        const high = this.parse(Prec.Equality + 1);
        return this.node({ kind: 'Between', not, operand: left, low, high }, [left, low, high]);
      }
      case 'LIKE': {
        const pattern = this.parse(Prec.Equality + 1);
        const escape = c.acceptWord('ESCAPE') ? this.parse(Prec.Equality + 1) : null;
        return this.node({ kind: 'Like', not, operand: left, pattern, escape }, [left, pattern, escape]);
      }
      default:
        throw c.syntaxError(keyword);
    }
  }

  /** x IS [NOT] y; with y the NULL literal it is an IsNull, as SQLite's parser makes it. */
  private parseIs(left: Expr): Expr {
    const not = this.c.acceptWord('NOT');
    const right = this.parse(Prec.Equality + 1);
    if (right.kind === 'NullLiteral') return this.node({ kind: 'IsNull', not, operand: left }, [left]);
    return this.node({ kind: 'Binary', op: not ? 'IS NOT' : 'IS', left, right }, [left, right]);
  }

  private parseInList(operand: Expr, not: boolean): Expr {
    const c = this.c;
    // `x IN t` is SQLite's short form of a subquery on table t.
    if (c.isName()) throw SqlError.unsupported('subqueries');
    c.expectPunct('(');
    this.rejectSubquery();
    const items: Expr[] = [];
    if (!c.acceptPunct(')')) {
      do items.push(this.parse());
      while (c.acceptPunct(','));
      c.expectPunct(')');
    }
    return this.node({ kind: 'InList', not, operand, items }, [operand, ...items]);
  }

  private parsePrefix(): Expr {
    const c = this.c;
    const op = c.peek.kind === 'punct' ? PREFIX_OPERATORS.get(c.peek.value) : undefined;
    if (op) {
      c.next();
      // SQLite reads -9223372036854775808 as the smallest integer, not as minus a real.
      if (op === '-' && c.peek.kind === 'integer' && BigInt(c.peek.value) === INT64_MAX + 1n) {
        c.next();
        return { kind: 'IntegerLiteral', value: -(INT64_MAX + 1n) };
      }
      const operand = this.parse(Prec.Unary);
      return this.node({ kind: 'Unary', op, operand }, [operand]);
    }
    if (c.acceptWord('NOT')) {
      const operand = this.parse(Prec.Not);
      return this.node({ kind: 'Unary', op: 'NOT', operand }, [operand]);
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const c = this.c;
    const t = c.peek;
    const literal = this.literalOf(t);
    if (literal) {
      c.next();
      return literal;
    }
    if (t.kind === 'parameter') return this.parseParameter(c.next());
    if (c.acceptPunct('(')) return this.parseParenthesized();
    if (t.kind === 'word') {
      switch (t.value) {
        case 'CASE':
          return this.parseCase();
        case 'CAST':
          return this.parseCast();
        case 'EXISTS':
          throw SqlError.unsupported('subqueries');
      }
    }
    if (!c.isName()) throw c.syntaxError();
    if (c.isPunct('(', c.peekAhead())) return this.parseFunctionCall();
    const first = c.next();
    if (c.acceptPunct('.')) return { kind: 'ColumnRef', table: nameOf(first), column: c.expectName(), doubleQuoted: false };
    return { kind: 'ColumnRef', table: null, column: nameOf(first), doubleQuoted: first.text.startsWith('"') };
  }

  /** The literal the token spells, if it is one (the token is not consumed). */
  private literalOf(t: Token): Expr | null {
    switch (t.kind) {
      case 'string':
        return { kind: 'StringLiteral', value: t.value };
      case 'blob':
        return { kind: 'BlobLiteral', hex: t.value };
      case 'word':
        if (t.value === 'NULL') return { kind: 'NullLiteral' };
        if (t.value === 'TRUE' || t.value === 'FALSE') return { kind: 'BooleanLiteral', value: t.value === 'TRUE' };
        return null;
      default:
        return numericLiteral(t);
    }
  }

  /** [+|-] number, as in a type's size or a DEFAULT. */
  private parseSignedNumber(): Expr {
    const c = this.c;
    const op = c.isPunct('-') || c.isPunct('+') ? PREFIX_OPERATORS.get(c.next().value) : undefined;
    const literal = numericLiteral(c.peek);
    if (!literal) throw c.syntaxError();
    c.next();
    return op ? this.node({ kind: 'Unary', op, operand: literal }, [literal]) : literal;
  }

  private parseParameter(t: Token): Parameter {
    const text = t.value;
    if (text === '?') return { kind: 'Parameter', name: null, index: ++this.largestParameter };
    if (text.startsWith('?')) {
      const index = Number(text.slice(1));
      if (!(index >= 1 && index <= MAX_PARAMETER_NUMBER)) throw new SqlError(`variable number must be between ?1 and ?${MAX_PARAMETER_NUMBER}`);
      this.largestParameter = Math.max(this.largestParameter, index);
      return { kind: 'Parameter', name: null, index };
    }
    let index = this.namedParameters.get(text);
    if (index === undefined) {
      index = ++this.largestParameter;
      this.namedParameters.set(text, index);
    }
    return { kind: 'Parameter', name: text, index };
  }

  /** After `(`: a parenthesised expression; a subquery or a row value is refused. */
  private parseParenthesized(): Expr {
    const c = this.c;
    this.rejectSubquery();
    const e = this.parse();
    if (c.isPunct(',')) throw SqlError.unsupported('row values');
    c.expectPunct(')');
    return e;
  }

  private rejectSubquery(): void {
    const c = this.c;
    if (c.isWord('SELECT') || c.isWord('WITH') || c.isWord('VALUES')) throw SqlError.unsupported('subqueries');
  }

  private parseCase(): Expr {
    const c = this.c;
    c.expectWord('CASE');
    const operand = c.isWord('WHEN') ? null : this.parse();
    const whens = [];
    const children: (Expr | null)[] = [operand];
    while (c.acceptWord('WHEN')) {
      const when = this.parse();
      c.expectWord('THEN');
      const then = this.parse();
      whens.push({ kind: 'CaseWhen', when, then } as const);
      children.push(when, then);
    }
    if (whens.length === 0) throw c.syntaxError();
    const otherwise = c.acceptWord('ELSE') ? this.parse() : null;
    c.expectWord('END');
    return this.node({ kind: 'Case', operand, whens, otherwise }, [...children, otherwise]);
  }

  private parseCast(): Expr {
    const c = this.c;
    c.expectWord('CAST');
    c.expectPunct('(');
    const operand = this.parse();
    c.expectWord('AS');
    const type = this.parseTypeName();
    c.expectPunct(')');
    return this.node({ kind: 'Cast', operand, type }, [operand]);
  }

  private parseFunctionCall(): FunctionCall {
    const c = this.c;
    const name = c.expectName();
    c.expectPunct('(');
    const distinct = c.acceptWord('DISTINCT');
    if (!distinct) c.acceptWord('ALL');
    const star = !distinct && c.acceptPunct('*');
    const args: Expr[] = [];
    if (!star && !c.isPunct(')')) {
      do args.push(this.parse());
      while (c.acceptPunct(','));
    }
    c.expectPunct(')');
    // f(…) OVER (…) and f(…) OVER name make a window function; f(…) over alone is an alias.
    if (c.isWord('OVER') && (c.isPunct('(', c.peekAhead()) || c.isName(c.peekAhead()))) throw SqlError.unsupported('window functions');
    return this.node({ kind: 'FunctionCall', name, distinct, star, args }, args);
  }

  /** Records the node's height (1 + its tallest child) and refuses one over the limit. */
  private node<T extends Expr>(node: T, children: readonly (Expr | null)[]): T {
    let tallest = 0;
    for (const child of children) if (child) tallest = Math.max(tallest, this.heights.get(child) ?? 1);
    const height = tallest + 1;
    if (height > MAX_EXPR_DEPTH) throw SqlError.tooDeep();
    this.heights.set(node, height);
    return node;
  }
}

function numericLiteral(t: Token): Expr | null {
  switch (t.kind) {
    case 'integer': {
      const value = BigInt(t.value);
      return value > INT64_MAX ? { kind: 'RealLiteral', value: Number(t.value) } : { kind: 'IntegerLiteral', value };
    }
    case 'hex':
      return { kind: 'IntegerLiteral', value: hexValue(t.value) };
    case 'real':
      return { kind: 'RealLiteral', value: Number(t.value) };
    default:
      return null;
  }
}

/** 0x…: up to 16 significant hex digits, read as a two's complement 64-bit integer, as in SQLite. */
function hexValue(text: string): bigint {
  if (text.slice(2).replace(/^0+/, '').length > 16) throw new SqlError(`hex literal too big: ${text}`);
  return BigInt.asIntN(64, BigInt(text));
}
