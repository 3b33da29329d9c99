/**
 * The exhaustive walk over the syntax tree: `children` is the one place that
 * knows each node's shape (a switch over `kind` ending in assertNever, so a new
 * node kind does not compile until it is listed here), and everything that
 * needs to see the whole tree builds on `walk`. The walk keeps its own stack,
 * so it never recurses however large a list (a 50,000-row VALUES) is.
 */
import { assertNever } from '../common/index.js';
import type { ColumnRef, Node, Parameter } from './ast.js';

/** The node's child nodes, in source order. */
export function children(node: Node): readonly Node[] {
  switch (node.kind) {
    case 'CreateTable':
      return present(node.columns, node.constraints);
    case 'CreateIndex':
    case 'TablePrimaryKey':
    case 'TableUnique':
      return node.columns;
    case 'Insert':
      return [node.source];
    case 'Values':
      return node.rows.flat();
    case 'Select':
      return present(node.columns, node.from, node.where, node.groupBy, node.having, node.orderBy, node.limit, node.offset);
    case 'Update':
      return present(node.assignments, node.where);
    case 'Delete':
      return present(node.where);
    case 'ExplainQueryPlan':
      return [node.select];
    case 'ColumnDef':
      return present(node.type, node.constraints);
    case 'DefaultConstraint':
      return [node.value];
    case 'ExprColumn':
    case 'OrderingTerm':
      return [node.expr];
    case 'Join':
      return present(node.left, node.right, node.on);
    case 'Assignment':
      return [node.value];
    case 'Unary':
    case 'IsNull':
      return [node.operand];
    case 'Binary':
      return [node.left, node.right];
    case 'InList':
      return [node.operand, ...node.items];
    case 'Between':
      return [node.operand, node.low, node.high];
    case 'Like':
      return present(node.operand, node.pattern, node.escape);
    case 'Case':
      return present(node.operand, node.whens, node.otherwise);
    case 'CaseWhen':
      return [node.when, node.then];
    case 'Cast':
      return [node.operand, node.type];
    case 'FunctionCall':
      return node.args;
    case 'DropTable':
    case 'DropIndex':
    case 'TypeName':
    case 'PrimaryKeyConstraint':
    case 'NotNullConstraint':
    case 'UniqueConstraint':
    case 'IndexedColumn':
    case 'AllColumns':
    case 'TableRef':
    case 'IntegerLiteral':
    case 'RealLiteral':
    case 'StringLiteral':
    case 'BlobLiteral':
    case 'NullLiteral':
    case 'BooleanLiteral':
    case 'ColumnRef':
    case 'Parameter':
      return [];
    default:
      return assertNever(node, 'SQL node');
  }
}

/** The given nodes and lists of nodes as one list, without the absent ones. */
function present(...parts: (Node | readonly Node[] | null)[]): Node[] {
  const nodes: Node[] = [];
  for (const part of parts) {
    if (part === null) continue;
    if ('kind' in part) nodes.push(part);
    else for (const n of part) nodes.push(n);
  }
  return nodes;
}

/** Calls `visit` on the root and every node below it, parents before children, in source order. */
export function walk(root: Node, visit: (node: Node) => void): void {
  const stack: Node[] = [root];
  for (let node = stack.pop(); node; node = stack.pop()) {
    visit(node);
    const kids = children(node);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
  }
}

/** Every parameter in source order (a name used twice appears twice; `index` tells them apart). */
export function collectParameters(root: Node): Parameter[] {
  const found: Parameter[] = [];
  walk(root, (n) => n.kind === 'Parameter' && found.push(n));
  return found;
}

/** Every column reference in source order. */
export function collectColumnRefs(root: Node): ColumnRef[] {
  const found: ColumnRef[] = [];
  walk(root, (n) => n.kind === 'ColumnRef' && found.push(n));
  return found;
}
