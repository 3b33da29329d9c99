/**
 * Linearizability checking by the Wing–Gong algorithm with Lowe's
 * memoization, as in porcupine and Knossos (our own code): search for an order
 * of the operations that respects real time and that the sequential model
 * accepts; cache (linearized set, model state) pairs already explored.
 *
 * An operation whose outcome is unknown (the client gave up) has ret = Infinity
 * and output undefined: it may take effect at any point after its call, or
 * never (which is the same as taking effect after every observed operation).
 */

export interface Model<S, I, O> {
  init(): S;
  /** Applies `input` to `state`; false if `output` (undefined = unknown, accept any) cannot be its result. */
  step(state: S, input: I, output: O | undefined): [ok: boolean, next: S];
  hash(state: S): string;
  /** Splits a history into independent parts (e.g. by key), each checked alone. */
  partition(ops: readonly Operation<I, O>[]): Operation<I, O>[][];
}

export interface Operation<I, O> {
  readonly clientId: number;
  readonly input: I;
  readonly output: O | undefined;
  /** Logical invocation and response times; ret = Infinity when the outcome is unknown. */
  readonly call: number;
  readonly ret: number;
}

export type CheckResult = { readonly ok: true } | { readonly ok: false; readonly message: string } | { readonly ok: 'unknown'; readonly message: string };

interface Node {
  readonly id: number;
  readonly isCall: boolean;
  readonly time: number;
  /** For a call: its return node. */
  match: Node | undefined;
  prev: Node | undefined;
  next: Node | undefined;
}

export function checkLinearizable<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[], maxSteps = 5_000_000): CheckResult {
  const parts = model.partition(history);
  for (let p = 0; p < parts.length; p++) {
    const r = checkPart(model, parts[p], maxSteps);
    if (r.ok !== true) return r;
  }
  return { ok: true };
}

function checkPart<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], maxSteps: number): CheckResult {
  if (ops.length === 0) return { ok: true };
  const head = buildList(ops);
  const linearized = new Uint32Array(Math.ceil(ops.length / 32));
  const seen = new Set<string>();
  const stack: { node: Node; state: S }[] = [];
  let state = model.init();
  let node = head.next;
  let longest = 0;
  for (let steps = 0; head.next !== undefined; steps++) {
    if (steps > maxSteps) return { ok: 'unknown', message: `gave up after ${maxSteps} search steps on ${ops.length} operations` };
    if (node === undefined) break; // unreachable: a return node always ends the list of pending calls
    if (node.isCall) {
      const op = ops[node.id];
      const [ok, next] = model.step(state, op.input, op.output);
      if (ok) {
        setBit(linearized, node.id);
        const key = `${model.hash(next)}|${bitsKey(linearized)}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ node, state });
          longest = Math.max(longest, stack.length);
          state = next;
          lift(node);
          node = head.next;
          continue;
        }
        clearBit(linearized, node.id);
      }
      node = node.next;
    } else {
      // A return whose call was never linearized: undo the last choice.
      const top = stack.pop();
      if (!top) {
        const op = ops[node.id];
        return { ok: false, message: `not linearizable: no valid order for ${ops.length} operations (longest linearizable prefix ${longest}); stuck at client ${op.clientId} ${JSON.stringify(op.input)} -> ${JSON.stringify(op.output)}` };
      }
      state = top.state;
      clearBit(linearized, top.node.id);
      unlift(top.node);
      node = top.node.next;
    }
  }
  return { ok: true };
}

/** A doubly linked list of call and return nodes in time order (calls before returns at equal times). */
function buildList<I, O>(ops: readonly Operation<I, O>[]): Node {
  const nodes: Node[] = [];
  ops.forEach((op, id) => {
    const ret: Node = { id, isCall: false, time: op.ret, match: undefined, prev: undefined, next: undefined };
    const call: Node = { id, isCall: true, time: op.call, match: ret, prev: undefined, next: undefined };
    nodes.push(call, ret);
  });
  nodes.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.id - b.id : a.isCall ? -1 : 1));
  const head: Node = { id: -1, isCall: false, time: -Infinity, match: undefined, prev: undefined, next: undefined };
  let prev = head;
  for (const n of nodes) {
    prev.next = n;
    n.prev = prev;
    prev = n;
  }
  return head;
}

function lift(call: Node): void {
  call.prev!.next = call.next;
  call.next!.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift(call: Node): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  call.next!.prev = call;
}

function setBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5] |= 1 << (i & 31);
}

function clearBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5] &= ~(1 << (i & 31));
}

function bitsKey(bits: Uint32Array): string {
  let s = '';
  for (let i = 0; i < bits.length; i++) s += String.fromCharCode(bits[i] & 0xffff, bits[i] >>> 16);
  return s;
}
