/**
 * A compact S-expression print of SQL syntax trees, for tests: `1 + 2 * 3`
 * prints as `(+ 1 (* 2 3))`, so precedence and shape read at a glance.
 * Expressions have short forms; other nodes print as `(Kind field=value …)`,
 * leaving out null, false and empty fields.
 */
import { assertNever } from '../../src/common/index.js';
import type { Expr, Node } from '../../src/sql/index.js';

export function toSexpr(node: Node): string {
  return isExpr(node) ? exprSexpr(node) : genericSexpr(node);
}

const EXPR_KINDS = new Set<string>([
  'IntegerLiteral', 'RealLiteral', 'StringLiteral', 'BlobLiteral', 'NullLiteral', 'BooleanLiteral', 'ColumnRef',
  'Parameter', 'Unary', 'Binary', 'IsNull', 'InList', 'Between', 'Like', 'Case', 'Cast', 'FunctionCall',
] satisfies Expr['kind'][]);

function isExpr(node: Node): node is Expr {
  return EXPR_KINDS.has(node.kind);
}

function list(items: readonly Node[]): string {
  return items.map(toSexpr).join(' ');
}

function exprSexpr(e: Expr): string {
  switch (e.kind) {
    case 'IntegerLiteral':
      return String(e.value);
    case 'RealLiteral':
      return Number.isInteger(e.value) ? `${e.value}.0` : String(e.value);
    case 'StringLiteral':
      return `'${e.value.replaceAll("'", "''")}'`;
    case 'BlobLiteral':
      return `X'${e.hex}'`;
    case 'NullLiteral':
      return 'NULL';
    case 'BooleanLiteral':
      return e.value ? 'TRUE' : 'FALSE';
    case 'ColumnRef': {
      const column = e.doubleQuoted ? `"${e.column}"` : e.column;
      return e.table === null ? column : `${e.table}.${column}`;
    }
    case 'Parameter':
      return e.name === null ? `?${e.index}` : `${e.name}#${e.index}`;
    case 'Unary':
      return `(${e.op} ${toSexpr(e.operand)})`;
    case 'Binary':
      return `(${e.op} ${toSexpr(e.left)} ${toSexpr(e.right)})`;
    case 'IsNull':
      return `(${e.not ? 'NOTNULL' : 'ISNULL'} ${toSexpr(e.operand)})`;
    case 'InList':
      return `(${e.not ? 'NOT IN' : 'IN'} ${toSexpr(e.operand)} [${list(e.items)}])`;
    case 'Between':
      return `(${e.not ? 'NOT BETWEEN' : 'BETWEEN'} ${list([e.operand, e.low, e.high])})`;
    case 'Like': {
      const escape = e.escape ? ` ESCAPE ${toSexpr(e.escape)}` : '';
      return `(${e.not ? 'NOT LIKE' : 'LIKE'} ${toSexpr(e.operand)} ${toSexpr(e.pattern)}${escape})`;
    }
    case 'Case': {
      const parts = [e.operand ? toSexpr(e.operand) : null, ...e.whens.map((w) => `(WHEN ${toSexpr(w.when)} ${toSexpr(w.then)})`), e.otherwise ? `(ELSE ${toSexpr(e.otherwise)})` : null];
      return `(CASE ${parts.filter((p) => p !== null).join(' ')})`;
    }
    case 'Cast':
      return `(CAST ${toSexpr(e.operand)} ${e.type.text})`;
    case 'FunctionCall': {
      const args = e.star ? '*' : list(e.args);
      return `(${e.name}${e.distinct ? ' DISTINCT' : ''}${args ? ` ${args}` : ''})`;
    }
    default:
      return assertNever(e, 'expression');
  }
}

function genericSexpr(node: Node): string {
  const fields: string[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'kind' || value === null || value === false || (Array.isArray(value) && value.length === 0)) continue;
    fields.push(`${key}=${valueSexpr(value)}`);
  }
  return `(${[node.kind, ...fields].join(' ')})`;
}

function valueSexpr(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(valueSexpr).join(' ')}]`;
  if (typeof value === 'object' && value !== null && 'kind' in value) return toSexpr(value as Node);
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
