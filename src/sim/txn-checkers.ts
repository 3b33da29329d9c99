/**
 * Transaction-history checkers for the Percolator layer (snapshot isolation):
 * an Elle-style list-append checker (Kingsbury & Alvaro, "Elle", VLDB 2020)
 * and a bank-transfer invariant checker. Pure: a history in, a verdict out;
 * used by the whole-cluster simulator and by the multi-process test.
 *
 * List append (Elle §3–4). Every append is unique per key, so a read of a list
 * names the transaction behind each element, and the longest read of a key
 * is a prefix of its version order (every other read must be a prefix of it,
 * else `incompatible-order`). From the orders and the reads we infer Adya's
 * dependency graph over committed transactions:
 *
 *   ww  T1 → T2   T2 appended the next element after T1's in a key's order
 *   wr  T1 → T2   T2 read a list whose last element T1 appended
 *   rw  T1 → T2   T1 read a list that stops just before T2's element
 *   rt  T1 → T2   T1 completed before T2 was invoked (with `realtime: true`)
 *
 * and look for cycles, classified as in Adya and Elle by the edges they need:
 * G0 (ww only), G1c (ww/wr), G-single (exactly one rw: read skew) and, with
 * real time, the same three with at least one rt edge ("-realtime": strong
 * snapshot isolation, which a TSO-ordered Percolator gives, forbids them).
 * Cycles needing two or more rw edges (G2: write skew) are allowed by snapshot
 * isolation; they are counted, not reported. Beside the cycles: G1a (aborted
 * read), G1b (intermediate read), lost update, garbage reads, duplicated
 * elements and internal inconsistency (a transaction not seeing its own
 * appends).
 *
 * Who is committed: `ok` transactions, plus `unknown` ones whose appends some
 * committed read observed (then all their appends count). Reads of `fail` and
 * `unknown` transactions are ignored. An `unknown` transaction may commit long
 * after its client gave up, so it never precedes anything in real time.
 *
 * Where this is not ideal: appends that no read observed are placed after the
 * whole observed order (sound: the key's list grew past every read without
 * them), but not ordered among themselves, so a cycle through two of them goes
 * unseen. A key whose reads disagree (`incompatible-order`) contributes wr
 * edges only. Per strongly connected component we report at most one example
 * of each cycle class, and a class can hide behind another in the same
 * component (a G1c-realtime cycle behind a G0-realtime one); the verdict does
 * not change.
 */
import { assert, assertNever } from '../common/index.js';
import type { CycleSearch, EdgeKind, LabelledStep } from './txn-graph.js';
import { DepGraph, GraphSearch, labelCycle, RT, RW, WR, WW } from './txn-graph.js';

export type TxnId = number | string;
export type TxnStatus = 'ok' | 'fail' | 'unknown';
/** A read's value is the whole list; null (the key does not exist) is the empty list. */
export type ListAppendOp = { readonly f: 'append'; readonly key: string; readonly value: number } | { readonly f: 'r'; readonly key: string; readonly value: readonly number[] | null };

export interface ListAppendTxn {
  readonly id: TxnId;
  readonly status: TxnStatus;
  readonly ops: readonly ListAppendOp[];
  readonly invokedAt: number;
  /** For `unknown`, when the client gave up; not used for real-time order. */
  readonly completedAt: number;
}

export interface ListAppendOptions {
  /** Add real-time edges and report the "-realtime" cycle classes. Default false. */
  readonly realtime?: boolean;
}

export interface CheckResult<A> {
  /** No anomaly; G2 (write skew) does not count against it. */
  readonly ok: boolean;
  readonly anomalies: readonly A[];
  /** Every anomaly type (0 when absent), plus G2: components whose cycles all need ≥ 2 rw edges. */
  readonly counts: Readonly<Record<string, number>>;
}

export interface CycleStep {
  readonly from: TxnId;
  readonly to: TxnId;
  readonly kind: EdgeKind;
  /** The key behind a ww, wr or rw edge. */
  readonly key?: string;
}

export type CycleType = 'G0' | 'G1c' | 'G-single' | 'G0-realtime' | 'G1c-realtime' | 'G-single-realtime';

export type ListAppendAnomaly =
  | { readonly type: CycleType; readonly detail: { readonly cycle: readonly CycleStep[] } }
  /** A committed read saw an element appended by a failed transaction. */
  | { readonly type: 'G1a'; readonly detail: { readonly reader: TxnId; readonly writer: TxnId; readonly key: string; readonly value: number } }
  /** A read ended on an element its writer later followed with another append to that key. */
  | { readonly type: 'G1b'; readonly detail: { readonly reader: TxnId; readonly writer: TxnId; readonly key: string; readonly value: number } }
  /** Committed transactions that read the same version of a key and all appended to it. */
  | { readonly type: 'lost-update'; readonly detail: { readonly key: string; readonly read: readonly number[]; readonly txns: readonly TxnId[] } }
  | { readonly type: 'incompatible-order'; readonly detail: { readonly key: string; readonly reader: TxnId; readonly read: readonly number[]; readonly longest: readonly number[] } }
  | { readonly type: 'duplicate-append'; readonly detail: { readonly reader: TxnId; readonly key: string; readonly value: number; readonly read: readonly number[] } }
  | { readonly type: 'garbage-read'; readonly detail: { readonly reader: TxnId; readonly key: string; readonly value: number } }
  /** A read inside one transaction that disagrees with its earlier read and own appends (`expected` after `…` when no earlier read). */
  | { readonly type: 'internal'; readonly detail: { readonly txn: TxnId; readonly key: string; readonly read: readonly number[]; readonly expected: readonly number[]; readonly prefixUnknown: boolean } };

export type ListAppendAnomalyType = ListAppendAnomaly['type'];

const LIST_APPEND_TYPES: readonly ListAppendAnomalyType[] = [
  'G0', 'G1a', 'G1b', 'G1c', 'G-single', 'G0-realtime', 'G1c-realtime', 'G-single-realtime',
  'lost-update', 'incompatible-order', 'duplicate-append', 'garbage-read', 'internal',
];

/**
 * Elle's searches, each restricted to the edges its class may use; `unless`
 * keeps an edge out of the first position when a milder kind explains it.
 */
const SEARCHES: readonly CycleSearch[] = [
  { first: WW, unless: 0, rest: WW },
  { first: WR, unless: WW, rest: WW | WR },
  { first: RW, unless: WW | WR, rest: WW | WR },
];
const REALTIME_SEARCHES: readonly CycleSearch[] = [
  { first: RT, unless: WW, rest: WW | RT },
  { first: RT, unless: WW | WR, rest: WW | WR | RT },
  { first: RW, unless: WW | WR | RT, rest: WW | WR | RT },
];

interface Writer {
  /** Index into the history. */
  readonly txn: number;
  /** The writer's last append to this key. */
  readonly final: boolean;
}

interface Read {
  readonly txn: number;
  readonly key: string;
  readonly list: readonly number[];
}

export function checkListAppend(history: readonly ListAppendTxn[], options: ListAppendOptions = {}): CheckResult<ListAppendAnomaly> {
  const anomalies: ListAppendAnomaly[] = [];
  const idOf = (t: number): TxnId => history[t].id;
  const writers = indexWriters(history);
  const writerOf = (key: string, value: number): Writer | undefined => writers.get(key)?.get(value);

  // Reads of committed transactions: each checked alone, then grouped by key.
  const reads = new Map<string, Read[]>();
  const observed = new Set<number>();
  history.forEach((txn, t) => {
    if (txn.status !== 'ok') return;
    anomalies.push(...internalAnomalies(txn));
    for (const op of txn.ops) {
      if (op.f !== 'r') continue;
      const read: Read = { txn: t, key: op.key, list: op.value ?? [] };
      let list = reads.get(op.key);
      if (list === undefined) reads.set(op.key, (list = []));
      list.push(read);
      anomalies.push(...readAnomalies(read, writerOf, history));
      for (const v of read.list) {
        const w = writerOf(op.key, v);
        if (w !== undefined) observed.add(w.txn);
      }
    }
  });

  // Graph nodes: the committed transactions.
  const node = new Int32Array(history.length).fill(-1);
  const txnOf: number[] = [];
  history.forEach((txn, t) => {
    if (txn.status === 'ok' || (txn.status === 'unknown' && observed.has(t))) {
      node[t] = txnOf.length;
      txnOf.push(t);
    }
  });
  const g = new DepGraph(txnOf.length);
  const committed = (w: Writer | undefined): w is Writer => w !== undefined && node[w.txn] >= 0;

  for (const [key, keyReads] of reads) {
    for (const r of keyReads) {
      // wr: the writer of the last element → the reader.
      const w = r.list.length > 0 ? writerOf(key, r.list[r.list.length - 1]) : undefined;
      if (committed(w)) g.add(node[w.txn], node[r.txn], WR, key);
    }
    const longest = keyReads.reduce((a, b) => (b.list.length > a.list.length ? b : a)).list;
    const bad = keyReads.filter((r) => !isPrefix(r.list, longest));
    for (const r of bad) anomalies.push({ type: 'incompatible-order', detail: { key, reader: idOf(r.txn), read: r.list, longest } });
    if (bad.length === 0) addOrderEdges(g, key, longest, keyReads, node, writers.get(key));
  }

  anomalies.push(...lostUpdates(history, idOf));
  if (options.realtime === true) addRealtimeEdges(g, history, txnOf);

  const counts: Record<string, number> = { G2: 0 };
  for (const t of LIST_APPEND_TYPES) counts[t] = 0;
  for (const a of anomalies) counts[a.type]++;
  for (const cycle of findCycles(g, options.realtime === true, counts)) {
    anomalies.push({ type: cycle.type, detail: { cycle: cycle.steps.map((s) => ({ from: idOf(txnOf[s.from]), to: idOf(txnOf[s.to]), kind: s.kind, ...(s.key !== undefined ? { key: s.key } : {}) })) } });
  }
  return { ok: anomalies.length === 0, anomalies, counts };
}

function indexWriters(history: readonly ListAppendTxn[]): Map<string, Map<number, Writer>> {
  const seenIds = new Set<TxnId>();
  const writers = new Map<string, Map<number, Writer>>();
  history.forEach((txn, t) => {
    assert(!seenIds.has(txn.id), () => `list-append history: transaction id ${String(txn.id)} appears twice`);
    seenIds.add(txn.id);
    assert(txn.invokedAt <= txn.completedAt, () => `list-append history: transaction ${String(txn.id)} completes before it is invoked`);
    txn.ops.forEach((op, i) => {
      if (op.f !== 'append') return;
      let byValue = writers.get(op.key);
      if (byValue === undefined) writers.set(op.key, (byValue = new Map()));
      assert(!byValue.has(op.value), () => `list-append history: ${op.key} ← ${op.value} appended twice (the workload must append unique values per key)`);
      const final = !txn.ops.some((later, j) => j > i && later.f === 'append' && later.key === op.key);
      byValue.set(op.value, { txn: t, final });
    });
  });
  return writers;
}

/** Garbage, duplicates, G1a and G1b in one committed read. */
function readAnomalies(r: Read, writerOf: (key: string, v: number) => Writer | undefined, history: readonly ListAppendTxn[]): ListAppendAnomaly[] {
  const found: ListAppendAnomaly[] = [];
  const reader = history[r.txn].id;
  const seen = new Set<number>();
  const aborted = new Set<number>();
  for (const value of r.list) {
    if (seen.has(value)) {
      found.push({ type: 'duplicate-append', detail: { reader, key: r.key, value, read: r.list } });
      continue;
    }
    seen.add(value);
    const w = writerOf(r.key, value);
    if (w === undefined) found.push({ type: 'garbage-read', detail: { reader, key: r.key, value } });
    else if (history[w.txn].status === 'fail' && !aborted.has(w.txn)) {
      aborted.add(w.txn);
      found.push({ type: 'G1a', detail: { reader, writer: history[w.txn].id, key: r.key, value } });
    }
  }
  const value = r.list[r.list.length - 1];
  const last = r.list.length > 0 ? writerOf(r.key, value) : undefined;
  if (last !== undefined && !last.final && last.txn !== r.txn && history[last.txn].status !== 'fail') {
    found.push({ type: 'G1b', detail: { reader, writer: history[last.txn].id, key: r.key, value } });
  }
  return found;
}

/** Each read must show the transaction's earlier read of that key (if any) followed by its own appends since. */
function internalAnomalies(txn: ListAppendTxn): ListAppendAnomaly[] {
  const found: ListAppendAnomaly[] = [];
  const state = new Map<string, { known: boolean; list: number[] }>();
  for (const op of txn.ops) {
    let s = state.get(op.key);
    if (s === undefined) state.set(op.key, (s = { known: false, list: [] }));
    if (op.f === 'append') {
      s.list.push(op.value);
      continue;
    }
    const read = op.value ?? [];
    const fits = s.known ? sameList(read, s.list) : isSuffix(s.list, read);
    if (!fits) found.push({ type: 'internal', detail: { txn: txn.id, key: op.key, read, expected: s.list.slice(), prefixUnknown: !s.known } });
    state.set(op.key, { known: true, list: read.slice() });
  }
  return found;
}

/**
 * ww and rw edges from one key's version order `order` (the longest read,
 * which every read of the key is a prefix of). Committed appends no read saw
 * come after the whole order.
 */
function addOrderEdges(
  g: DepGraph,
  key: string,
  order: readonly number[],
  keyReads: readonly Read[],
  node: Int32Array,
  writers: ReadonlyMap<number, Writer> = new Map(),
): void {
  // The committed writer of each position, or -1 (failed writer, garbage).
  const at = order.map((v) => {
    const w = writers.get(v);
    return w !== undefined && node[w.txn] >= 0 ? node[w.txn] : -1;
  });
  const inOrder = new Set(at);
  const unseen = new Set<number>();
  for (const w of writers.values()) if (node[w.txn] >= 0 && !inOrder.has(node[w.txn])) unseen.add(node[w.txn]);
  let prev = -1;
  for (const w of at) {
    if (w < 0 || w === prev) continue;
    if (prev >= 0) g.add(prev, w, WW, key);
    prev = w;
  }
  if (prev >= 0) for (const w of unseen) g.add(prev, w, WW, key);

  for (const r of keyReads) {
    // rw: the reader → the next writer it did not see. A writer whose earlier
    // element the read did see is skipped (that read is a G1b already).
    const seenLast = r.list.length > 0 ? at[r.list.length - 1] : -1;
    let j = r.list.length;
    while (j < at.length && (at[j] < 0 || at[j] === seenLast)) j++;
    const from = node[r.txn];
    if (j < at.length) g.add(from, at[j], RW, key);
    else for (const w of unseen) g.add(from, w, RW, key);
  }
}

/**
 * Real-time edges, transitively reduced as Elle does: an invocation links
 * from the frontier of completed transactions, and a completion retires
 * from the frontier everything that preceded it. Reachability is the full
 * real-time order, at O(transactions × concurrency) edges instead of O(n²).
 */
function addRealtimeEdges(g: DepGraph, history: readonly ListAppendTxn[], txnOf: readonly number[]): void {
  type Event = { readonly time: number; readonly invoke: boolean; readonly v: number };
  const events: Event[] = [];
  for (let v = 0; v < txnOf.length; v++) {
    const txn = history[txnOf[v]];
    events.push({ time: txn.invokedAt, invoke: true, v });
    if (txn.status === 'ok') events.push({ time: txn.completedAt, invoke: false, v });
  }
  // Strictly before: at equal times an invocation does not follow a completion.
  events.sort((a, b) => a.time - b.time || (a.invoke === b.invoke ? 0 : a.invoke ? -1 : 1));
  const frontier = new Set<number>();
  const preds: (number[] | undefined)[] = [];
  for (const e of events) {
    if (e.invoke) {
      const p = [...frontier];
      for (const u of p) g.add(u, e.v, RT);
      preds[e.v] = p;
    } else {
      for (const u of preds[e.v] ?? []) frontier.delete(u);
      preds[e.v] = undefined;
      frontier.add(e.v);
    }
  }
}

function lostUpdates(history: readonly ListAppendTxn[], idOf: (t: number) => TxnId): ListAppendAnomaly[] {
  // key → version read (as text) → transactions that read it first, then appended.
  const groups = new Map<string, Map<string, { read: readonly number[]; txns: number[] }>>();
  history.forEach((txn, t) => {
    if (txn.status !== 'ok') return;
    const firstRead = new Map<string, readonly number[] | undefined>();
    const appended = new Set<string>();
    for (const op of txn.ops) {
      if (op.f === 'r' && !firstRead.has(op.key)) firstRead.set(op.key, appended.has(op.key) ? undefined : (op.value ?? []));
      if (op.f === 'append') appended.add(op.key);
    }
    for (const [key, read] of firstRead) {
      if (read === undefined || !appended.has(key)) continue;
      let byVersion = groups.get(key);
      if (byVersion === undefined) groups.set(key, (byVersion = new Map()));
      const version = read.join(',');
      const group = byVersion.get(version);
      if (group === undefined) byVersion.set(version, { read, txns: [t] });
      else group.txns.push(t);
    }
  });
  const found: ListAppendAnomaly[] = [];
  for (const [key, byVersion] of groups) {
    for (const { read, txns } of byVersion.values()) {
      if (txns.length > 1) found.push({ type: 'lost-update', detail: { key, read, txns: txns.map(idOf) } });
    }
  }
  return found;
}

interface FoundCycle {
  readonly type: CycleType;
  readonly steps: readonly LabelledStep[];
}

/** One example of each cycle class per strongly connected component; G2 counted where there is no other. */
function findCycles(g: DepGraph, realtime: boolean, counts: Record<string, number>): FoundCycle[] {
  const search = new GraphSearch(g);
  const searches = realtime ? [...SEARCHES, ...REALTIME_SEARCHES] : SEARCHES;
  const found: FoundCycle[] = [];
  for (const scc of search.components(WW | WR | RW | (realtime ? RT : 0))) {
    if (scc.length < 2) continue;
    const types = new Set<CycleType>();
    for (const s of searches) {
      const cycle = search.findCycle(scc, s);
      if (cycle === undefined) continue;
      const steps = labelCycle(g, cycle, s);
      const type = classify(steps);
      if (types.has(type)) continue;
      types.add(type);
      counts[type]++;
      found.push({ type, steps });
    }
    // Every cycle here needs two or more rw edges: write skew, which SI allows.
    if (types.size === 0) counts.G2++;
  }
  return found;
}

function classify(steps: readonly { readonly kind: EdgeKind }[]): CycleType {
  const has = (k: EdgeKind): boolean => steps.some((s) => s.kind === k);
  const base = has('rw') ? 'G-single' : has('wr') ? 'G1c' : 'G0';
  return has('rt') ? `${base}-realtime` : base;
}

function isPrefix(a: readonly number[], b: readonly number[]): boolean {
  return a.length <= b.length && a.every((v, i) => v === b[i]);
}

function isSuffix(a: readonly number[], b: readonly number[]): boolean {
  return a.length <= b.length && a.every((v, i) => v === b[b.length - a.length + i]);
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && isPrefix(a, b);
}

/** One line for a failure message. */
export function describeAnomaly(a: ListAppendAnomaly | BankAnomaly): string {
  const list = (l: readonly number[]): string => `[${l.join(' ')}]`;
  switch (a.type) {
    case 'G0':
    case 'G1c':
    case 'G-single':
    case 'G0-realtime':
    case 'G1c-realtime':
    case 'G-single-realtime': {
      const steps = a.detail.cycle.map((s) => `${String(s.from)} -${s.kind}${s.key !== undefined ? `(${s.key})` : ''}->`);
      return `${a.type}: ${steps.join(' ')} ${String(a.detail.cycle[0].from)}`;
    }
    case 'G1a':
      return `G1a: ${String(a.detail.reader)} read ${a.detail.key} ∋ ${a.detail.value} from failed ${String(a.detail.writer)}`;
    case 'G1b':
      return `G1b: ${String(a.detail.reader)} read ${a.detail.key} ending in ${a.detail.value}, an intermediate append of ${String(a.detail.writer)}`;
    case 'lost-update':
      return `lost-update: ${a.detail.txns.map(String).join(', ')} all read ${a.detail.key} = ${list(a.detail.read)} and appended to it`;
    case 'incompatible-order':
      return `incompatible-order: ${String(a.detail.reader)} read ${a.detail.key} = ${list(a.detail.read)}, not a prefix of ${list(a.detail.longest)}`;
    case 'duplicate-append':
      return `duplicate-append: ${String(a.detail.reader)} read ${a.detail.key} = ${list(a.detail.read)} with ${a.detail.value} twice`;
    case 'garbage-read':
      return `garbage-read: ${String(a.detail.reader)} read ${a.detail.key} ∋ ${a.detail.value}, never appended`;
    case 'internal':
      return `internal: ${String(a.detail.txn)} read ${a.detail.key} = ${list(a.detail.read)}, expected ${a.detail.prefixUnknown ? '…' : ''}${list(a.detail.expected)}`;
    case 'wrong-total':
      return `wrong-total: read ${String(a.detail.read)} sums to ${a.detail.total}, expected ${a.detail.expected}`;
    case 'negative-balance':
      return `negative-balance: read ${String(a.detail.read)} has ${a.detail.account} = ${a.detail.balance}`;
    case 'wrong-accounts':
      return `wrong-accounts: read ${String(a.detail.read)} lacks [${a.detail.missing.join(' ')}], has unknown [${a.detail.unexpected.join(' ')}]`;
    default:
      return assertNever(a, 'anomaly');
  }
}

export type Balances = ReadonlyMap<string, number> | Readonly<Record<string, number>>;

/** One transaction's snapshot read of every account. */
export interface BankRead {
  readonly id: TxnId;
  readonly balances: Balances;
}

export interface BankOptions {
  /** The workload may overdraw; default false (a negative balance is an anomaly). */
  readonly negativeAllowed?: boolean;
}

export type BankAnomaly =
  | { readonly type: 'wrong-total'; readonly detail: { readonly read: TxnId; readonly total: number; readonly expected: number } }
  | { readonly type: 'negative-balance'; readonly detail: { readonly read: TxnId; readonly account: string; readonly balance: number } }
  | { readonly type: 'wrong-accounts'; readonly detail: { readonly read: TxnId; readonly missing: readonly string[]; readonly unexpected: readonly string[] } };

const BANK_TYPES: readonly BankAnomaly['type'][] = ['wrong-total', 'negative-balance', 'wrong-accounts'];

/**
 * Transfers between accounts conserve the total, so every snapshot read (SI
 * gives each transaction one snapshot) must sum to the initial total, over
 * exactly the initial accounts. Reports every read that does not.
 */
export function checkBank(initial: Balances, reads: readonly BankRead[], options: BankOptions = {}): CheckResult<BankAnomaly> {
  const start = entriesOf(initial);
  const expected = start.reduce((sum, [, b]) => sum + b, 0);
  const accounts = new Set(start.map(([a]) => a));
  const anomalies: BankAnomaly[] = [];
  for (const r of reads) {
    const entries = entriesOf(r.balances);
    const total = entries.reduce((sum, [, b]) => sum + b, 0);
    if (total !== expected) anomalies.push({ type: 'wrong-total', detail: { read: r.id, total, expected } });
    const present = new Set(entries.map(([a]) => a));
    const missing = [...accounts].filter((a) => !present.has(a));
    const unexpected = [...present].filter((a) => !accounts.has(a));
    if (missing.length > 0 || unexpected.length > 0) anomalies.push({ type: 'wrong-accounts', detail: { read: r.id, missing, unexpected } });
    if (options.negativeAllowed !== true) {
      for (const [account, balance] of entries) if (balance < 0) anomalies.push({ type: 'negative-balance', detail: { read: r.id, account, balance } });
    }
  }
  const counts: Record<string, number> = {};
  for (const t of BANK_TYPES) counts[t] = 0;
  for (const a of anomalies) counts[a.type]++;
  return { ok: anomalies.length === 0, anomalies, counts };
}

function entriesOf(b: Balances): [string, number][] {
  return b instanceof Map ? [...(b as ReadonlyMap<string, number>)] : Object.entries(b as Readonly<Record<string, number>>);
}
