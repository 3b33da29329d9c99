import { describe, expect, it } from 'vitest';
import { SeededRng } from '../runtime/index.js';
import type { ListAppendAnomaly, ListAppendOp, ListAppendTxn, TxnStatus } from './txn-checkers.js';
import { checkBank, checkListAppend, describeAnomaly } from './txn-checkers.js';

const seed = Number(process.env.SIM_SEED_START ?? 1);

const ap = (key: string, value: number): ListAppendOp => ({ f: 'append', key, value });
const r = (key: string, value: number[] | null): ListAppendOp => ({ f: 'r', key, value });
/** A transaction; by default ok and concurrent with every other (all span [0, 100]). */
const txn = (id: number, ops: ListAppendOp[], status: TxnStatus = 'ok', invokedAt = 0, completedAt = 100): ListAppendTxn => ({ id, status, ops, invokedAt, completedAt });
/** Transactions one after another in real time, in the order given. */
const serial = (txns: ListAppendTxn[]): ListAppendTxn[] => txns.map((t, i) => ({ ...t, invokedAt: 10 * i, completedAt: 10 * i + 5 }));

const types = (h: ListAppendTxn[], realtime = false): string[] => [...new Set(checkListAppend(h, { realtime }).anomalies.map((a) => a.type))].sort();
const cycleOf = (a: ListAppendAnomaly) => ('cycle' in a.detail ? a.detail.cycle : []);

function expectClosedCycle(a: ListAppendAnomaly): void {
  const cycle = cycleOf(a);
  expect(cycle.length).toBeGreaterThanOrEqual(2);
  cycle.forEach((s, i) => expect(s.to).toBe(cycle[(i + 1) % cycle.length].from));
}

describe('list-append checker (Elle)', () => {
  it('accepts an empty history and a serial one', () => {
    expect(checkListAppend([])).toMatchObject({ ok: true, anomalies: [] });
    const h = serial([txn(1, [r('x', null), ap('x', 1)]), txn(2, [ap('x', 2), ap('y', 1)]), txn(3, [r('x', [1, 2]), r('y', [1])])]);
    for (const realtime of [false, true]) expect(checkListAppend(h, { realtime })).toMatchObject({ ok: true, anomalies: [], counts: { G2: 0, G0: 0 } });
  });

  it('G0: two transactions append to two keys in opposite orders', () => {
    const h = [txn(1, [ap('x', 1), ap('y', 2)]), txn(2, [ap('x', 2), ap('y', 1)]), txn(3, [r('x', [1, 2]), r('y', [1, 2])])];
    const res = checkListAppend(h);
    expect(res.ok).toBe(false);
    expect(types(h)).toEqual(['G0']);
    const g0 = res.anomalies[0];
    expectClosedCycle(g0);
    expect(cycleOf(g0).map((s) => [s.from, s.to, s.kind, s.key]).sort()).toEqual([
      [1, 2, 'ww', 'x'],
      [2, 1, 'ww', 'y'],
    ]);
    expect(res.counts.G0).toBe(1);
  });

  it('G1a: a committed read sees the append of a failed transaction', () => {
    const h = [txn(1, [ap('x', 1)], 'fail'), txn(2, [r('x', [1])])];
    const res = checkListAppend(h);
    expect(res.anomalies).toEqual([{ type: 'G1a', detail: { reader: 2, writer: 1, key: 'x', value: 1 } }]);
    // The failed transaction's own (impossible) reads are ignored.
    expect(checkListAppend([txn(1, [r('x', [7, 7]), ap('x', 1)], 'fail')]).ok).toBe(true);
  });

  it('G1b: a read ends on an append its writer later followed with another', () => {
    const h = [txn(1, [ap('x', 1), ap('x', 2)]), txn(2, [r('x', [1])])];
    expect(checkListAppend(h).anomalies).toEqual([{ type: 'G1b', detail: { reader: 2, writer: 1, key: 'x', value: 1 } }]);
    // Reading one's own intermediate append is fine.
    expect(checkListAppend([txn(1, [ap('x', 1), r('x', [1]), ap('x', 2)]), txn(2, [r('x', [1, 2])])]).ok).toBe(true);
  });

  it('G1c: two transactions each read the other’s append', () => {
    const h = [txn(1, [ap('x', 1), r('y', [1])]), txn(2, [ap('y', 1), r('x', [1])])];
    const res = checkListAppend(h);
    expect(types(h)).toEqual(['G1c']);
    expectClosedCycle(res.anomalies[0]);
    expect(cycleOf(res.anomalies[0]).map((s) => s.kind)).toEqual(['wr', 'wr']);
  });

  it('G-single: read skew, one rw edge closing a cycle', () => {
    const h = serial([txn(0, [ap('x', 1), ap('y', 1)]), txn(1, [ap('x', 2), ap('y', 2)]), txn(2, [r('x', [1]), r('y', [1, 2])])]);
    h[2] = { ...h[2], invokedAt: 0 }; // concurrent with 1, so not a real-time anomaly too
    const res = checkListAppend(h);
    expect(types(h)).toEqual(['G-single']);
    const steps = cycleOf(res.anomalies[0]);
    expectClosedCycle(res.anomalies[0]);
    expect(steps.map((s) => [s.from, s.to, s.kind, s.key]).sort()).toEqual([
      [1, 2, 'wr', 'y'],
      [2, 1, 'rw', 'x'],
    ]);
  });

  it('lost update: two committed transactions read the same version and both appended', () => {
    const h = [txn(0, [ap('x', 1)]), txn(1, [r('x', [1]), ap('x', 2)]), txn(2, [r('x', [1]), ap('x', 3)]), txn(3, [r('x', [1, 2, 3])])];
    const res = checkListAppend(h);
    expect(res.anomalies).toContainEqual({ type: 'lost-update', detail: { key: 'x', read: [1], txns: [1, 2] } });
    expect(types(h)).toEqual(['G-single', 'lost-update']); // 2 -rw-> 1 -ww-> 2
    // Different versions read: no lost update, no cycle.
    expect(checkListAppend([txn(0, [ap('x', 1)]), txn(1, [r('x', [1]), ap('x', 2)]), txn(2, [r('x', [1, 2]), ap('x', 3)])]).ok).toBe(true);
  });

  it('write skew (G2) is allowed by snapshot isolation and counted', () => {
    const skew = [txn(1, [r('x', null), r('y', null), ap('x', 1)]), txn(2, [r('x', null), r('y', null), ap('y', 1)])];
    // Seen by a later read, and with the appends never read at all (placed after every read).
    for (const h of [[...skew, txn(3, [r('x', [1]), r('y', [1])])], skew]) {
      const res = checkListAppend(h);
      expect(res).toMatchObject({ ok: true, anomalies: [] });
      expect(res.counts.G2).toBe(1);
    }
    // Three-way skew around a ring of keys.
    const ring = [0, 1, 2].map((i) => txn(i, [r(`k${i}`, []), r(`k${(i + 1) % 3}`, []), ap(`k${(i + 1) % 3}`, i)]));
    expect(checkListAppend(ring)).toMatchObject({ ok: true, counts: { G2: 1 } });
  });

  it('garbage reads and duplicated elements', () => {
    expect(checkListAppend([txn(1, [r('x', [9])])]).anomalies).toEqual([{ type: 'garbage-read', detail: { reader: 1, key: 'x', value: 9 } }]);
    const dup = checkListAppend([txn(1, [ap('x', 1)]), txn(2, [r('x', [1, 1])])]);
    expect(dup.anomalies).toContainEqual({ type: 'duplicate-append', detail: { reader: 2, key: 'x', value: 1, read: [1, 1] } });
    expect(dup.counts['duplicate-append']).toBe(1);
  });

  it('incompatible-order: a read that is not a prefix of the longest', () => {
    const h = [txn(1, [ap('x', 1)]), txn(2, [ap('x', 2)]), txn(3, [r('x', [1, 2])]), txn(4, [r('x', [2])])];
    expect(checkListAppend(h).anomalies).toEqual([{ type: 'incompatible-order', detail: { key: 'x', reader: 4, read: [2], longest: [1, 2] } }]);
  });

  it('internal: a transaction must see its own earlier read and appends', () => {
    expect(types([txn(1, [ap('x', 1), r('x', [])])])).toEqual(['internal']);
    expect(types([txn(0, [ap('x', 5)]), txn(1, [r('x', [5]), ap('x', 1), r('x', [5])])])).toEqual(['internal']);
    expect(checkListAppend([txn(0, [ap('x', 5)]), txn(1, [ap('x', 1), r('x', [5, 1]), ap('x', 2), r('x', [5, 1, 2])])]).ok).toBe(true);
  });

  it('unknown transactions: their appends count once observed, their reads never', () => {
    // Observed: 1 is committed, so 2's stale read of x closes a read skew with 1's y.
    const skew = [txn(1, [ap('x', 1), ap('y', 1), r('z', [42])], 'unknown'), txn(2, [r('x', []), r('y', [1])])];
    expect(types(skew)).toEqual(['G-single']);
    // Unobserved: it may never have happened; no edges, no anomaly.
    expect(checkListAppend([txn(1, [ap('x', 1)], 'unknown'), txn(2, [r('x', [])])]).ok).toBe(true);
    // An unknown transaction may commit after its client gave up: it precedes nothing in real time.
    const late = [txn(1, [ap('x', 1)], 'unknown', 0, 1), txn(2, [r('x', [])], 'ok', 2, 3), txn(3, [r('x', [1])], 'ok', 4, 5)];
    expect(checkListAppend(late, { realtime: true }).ok).toBe(true);
  });

  it('real time: a stale read after a completed append is G-single-realtime', () => {
    const h = [txn(1, [ap('x', 1)], 'ok', 0, 1), txn(2, [r('x', [])], 'ok', 2, 3)];
    expect(checkListAppend(h).ok).toBe(true);
    const res = checkListAppend(h, { realtime: true });
    expect(types(h, true)).toEqual(['G-single-realtime']);
    expect(cycleOf(res.anomalies[0]).map((s) => [s.from, s.to, s.kind])).toContainEqual([1, 2, 'rt']);
    // At equal times the two are concurrent.
    expect(checkListAppend([txn(1, [ap('x', 1)], 'ok', 0, 2), txn(2, [r('x', [])], 'ok', 2, 3)], { realtime: true }).ok).toBe(true);
  });

  it('real time: reading from the future is G1c-realtime, appending into the past G0-realtime', () => {
    expect(types([txn(1, [r('x', [1])], 'ok', 0, 1), txn(2, [ap('x', 1)], 'ok', 2, 3)], true)).toEqual(['G1c-realtime']);
    expect(types([txn(1, [ap('x', 1)], 'ok', 0, 1), txn(2, [ap('x', 2)], 'ok', 2, 3), txn(3, [r('x', [2, 1])], 'ok', 4, 5)], true)).toEqual(['G0-realtime']);
    // Real time reaches through a chain of transactions on other keys.
    const chain = [txn(1, [ap('x', 1)], 'ok', 0, 1), txn(2, [ap('y', 1)], 'ok', 2, 3), txn(3, [ap('z', 1)], 'ok', 4, 5), txn(4, [r('x', [])], 'ok', 6, 7)];
    expect(types(chain, true)).toEqual(['G-single-realtime']);
  });

  it('write skew stays allowed under real time when the transactions overlap', () => {
    const h = [txn(1, [r('x', null), r('y', null), ap('x', 1)], 'ok', 0, 3), txn(2, [r('x', null), r('y', null), ap('y', 1)], 'ok', 1, 4), txn(3, [r('x', [1]), r('y', [1])], 'ok', 5, 6)];
    expect(checkListAppend(h, { realtime: true })).toMatchObject({ ok: true, counts: { G2: 1 } });
  });

  it('reports several classes in one component, each once', () => {
    const h = [
      txn(1, [ap('x', 1), ap('y', 2), r('z', [1])]),
      txn(2, [ap('x', 2), ap('y', 1)]),
      txn(3, [ap('z', 1), r('x', [1])]),
      txn(4, [r('x', [1, 2]), r('y', [1, 2])]),
    ];
    // 1 ⇄ 2 by ww (G0); 1 ⇄ 3 by wr (G1c); 3 -rw(x)-> 2 -ww(y)-> 1 -wr(x)-> 3 (G-single).
    const res = checkListAppend(h);
    expect(types(h)).toEqual(['G-single', 'G0', 'G1c']);
    expect(res.anomalies.length).toBe(3);
    res.anomalies.forEach(expectClosedCycle);
    expect(cycleOf(res.anomalies.find((a) => a.type === 'G-single')!).filter((s) => s.kind === 'rw').length).toBe(1);
    // A ww edge that is also wr explains a cycle as G0 alone.
    expect(types([txn(1, [ap('x', 1), ap('y', 2), r('z', [1])]), txn(2, [ap('x', 2), ap('y', 1), ap('z', 1)]), txn(3, [r('x', [1, 2]), r('y', [1, 2])])])).toEqual(['G0']);
  });

  it('rejects malformed histories', () => {
    expect(() => checkListAppend([txn(1, []), txn(1, [])])).toThrow(/appears twice/);
    expect(() => checkListAppend([txn(1, [ap('x', 1)]), txn(2, [ap('x', 1)], 'fail')])).toThrow(/appended twice/);
  });

  it('describes every anomaly in one line', () => {
    const h = [
      txn(1, [ap('x', 1), ap('y', 2)]),
      txn(2, [ap('x', 2), ap('y', 1)]),
      txn(3, [r('x', [1, 2]), r('y', [1, 2]), r('g', [7, 7])]),
      txn(4, [ap('f', 1)], 'fail'),
      txn(5, [r('f', [1]), ap('i', 1), r('i', [])]),
    ];
    const lines = checkListAppend(h).anomalies.map(describeAnomaly);
    expect(lines).toContain('G1a: 5 read f ∋ 1 from failed 4');
    expect(lines).toContain('internal: 5 read i = [], expected …[1]');
    expect(lines.find((l) => l.startsWith('G0: '))).toMatch(/^G0: \d -ww\([xy]\)-> \d -ww\([xy]\)-> \d$/);
    expect(lines).toContain('garbage-read: 3 read g ∋ 7, never appended');
    expect(lines).toContain('duplicate-append: 3 read g = [7 7] with 7 twice');
  });
});

/**
 * A serial run of random transactions: some fail (never applied, reads
 * junk), some are unknown (applied or not, reads junk or true).
 */
function serialHistory(rng: SeededRng, n: number): ListAppendTxn[] {
  const state = new Map<string, number[]>();
  const keys = ['a', 'b', 'c', 'd', 'e'];
  let nextValue = 1;
  const history: ListAppendTxn[] = [];
  for (let i = 0; i < n; i++) {
    const roll = rng.int(10);
    const status: TxnStatus = roll < 7 ? 'ok' : roll < 8 ? 'fail' : 'unknown';
    const applied = status === 'ok' || (status === 'unknown' && rng.chance(0.5));
    const local = new Map<string, number[]>();
    const view = (k: string): number[] => (local.get(k) ?? state.get(k) ?? []).slice();
    const ops: ListAppendOp[] = [];
    for (let j = 1 + rng.int(5); j > 0; j--) {
      const key = rng.pick(keys);
      if (rng.chance(0.5)) {
        const list = view(key);
        list.push(nextValue);
        local.set(key, list);
        ops.push(ap(key, nextValue++));
      } else {
        const junk = status !== 'ok' && rng.chance(0.5);
        const list = view(key);
        ops.push(r(key, junk ? [nextValue + 1000, 0, 0] : list.length === 0 && rng.chance(0.5) ? null : list));
      }
    }
    if (applied) for (const [k, v] of local) state.set(k, v);
    history.push({ id: i, status, ops, invokedAt: 10 * i, completedAt: 10 * i + 5 });
  }
  return history;
}

/**
 * Strong snapshot isolation, simulated: clients interleave op by op; a
 * transaction reads the versions committed before it started plus its own
 * appends, and commits unless a key it appended to was committed since it
 * started (first committer wins). Timestamps are the event clock, taken
 * inside the invocation–completion interval, as a TSO gives; with `lag` the
 * snapshot is that many ticks older than the invocation (still snapshot
 * isolation, but not strong).
 */
function snapshotIsolationHistory(rng: SeededRng, n: number, clients: number, keys: number, lag = 0): ListAppendTxn[] {
  const versions = new Map<string, { ts: number; list: number[] }[]>();
  const read = (k: string, ts: number): number[] => {
    const vs = versions.get(k) ?? [];
    for (let i = vs.length - 1; i >= 0; i--) if (vs[i].ts <= ts) return vs[i].list;
    return [];
  };
  type Open = { id: number; invokedAt: number; start: number; left: number; ops: ListAppendOp[]; writes: Map<string, number[]> };
  const open: (Open | undefined)[] = Array.from({ length: clients }, () => undefined);
  const history: ListAppendTxn[] = [];
  let clock = 0;
  let nextValue = 1;
  let started = 0;
  while (history.length < n) {
    clock++;
    const c = rng.int(clients);
    let t = open[c];
    if (t === undefined) {
      if (started === n) continue;
      open[c] = t = { id: started++, invokedAt: clock, start: Math.max(0, clock - lag), left: 1 + rng.int(4), ops: [], writes: new Map() };
      continue;
    }
    if (t.left > 0) {
      t.left--;
      const key = `k${rng.int(keys)}`;
      const current = t.writes.get(key) ?? read(key, t.start).slice();
      if (rng.chance(0.5)) {
        current.push(nextValue);
        t.writes.set(key, current);
        t.ops.push(ap(key, nextValue++));
      } else t.ops.push(r(key, current.slice()));
      continue;
    }
    const conflict = [...t.writes.keys()].some((k) => (versions.get(k) ?? []).some((v) => v.ts > t.start));
    let status: TxnStatus = conflict ? 'fail' : 'ok';
    if (!conflict) for (const [k, list] of t.writes) versions.set(k, [...(versions.get(k) ?? []), { ts: clock, list }]);
    if (rng.chance(0.05)) status = 'unknown';
    history.push({ id: t.id, status, ops: t.ops, invokedAt: t.invokedAt - 0.5, completedAt: clock + 0.5 });
    open[c] = undefined;
  }
  return history;
}

describe(`list-append checker on generated histories (SIM_SEED_START=${seed})`, () => {
  it('serial histories pass, with and without real time; a forged read fails', () => {
    let staleForged = 0;
    for (let s = seed; s < seed + 200; s++) {
      const rng = new SeededRng(s);
      const h = serialHistory(rng, 60);
      for (const realtime of [false, true]) {
        const res = checkListAppend(h, { realtime });
        expect(res.ok, `seed ${s} realtime=${realtime}: ${res.anomalies.map(describeAnomaly).join('; ')}`).toBe(true);
        expect(res.counts.G2, `seed ${s}`).toBe(0);
      }
      // Forge one committed non-empty read: a value never appended, or (under real time) a stale prefix.
      const at = h.flatMap((t, ti) => (t.status === 'ok' ? t.ops.map((op, oi) => [ti, oi, op] as const) : [])).filter(([, , op]) => op.f === 'r' && (op.value?.length ?? 0) > 0);
      if (at.length === 0) continue;
      const [ti, oi, op] = at[rng.int(at.length)];
      const list = op.value as number[];
      const forge = (value: number[]): ListAppendTxn[] => h.map((t, i) => (i !== ti ? t : { ...t, ops: t.ops.map((o, j) => (j === oi ? r(o.key, value) : o)) }));
      expect(checkListAppend(forge([...list, 1e9])).counts['garbage-read'], `seed ${s}`).toBe(1);
      const dropped = list[list.length - 1];
      const writer = h.find((t) => t.ops.some((o) => o.f === 'append' && o.key === op.key && o.value === dropped))!;
      if (writer.status !== 'ok') continue;
      expect(checkListAppend(forge(list.slice(0, -1)), { realtime: true }).ok, `seed ${s}: stale read of ${op.key}`).toBe(false);
      staleForged++;
    }
    expect(staleForged).toBeGreaterThan(100);
  });

  it('strong snapshot isolation histories pass under real time; write skew shows up as G2', () => {
    let g2 = 0;
    for (let s = seed; s < seed + 100; s++) {
      const h = snapshotIsolationHistory(new SeededRng(s), 150, 4, 3);
      const res = checkListAppend(h, { realtime: true });
      expect(res.ok, `seed ${s}: ${res.anomalies.map(describeAnomaly).join('; ')}`).toBe(true);
      g2 += res.counts.G2;
    }
    expect(g2).toBeGreaterThan(0);
  });

  it('snapshot isolation with snapshots older than the invocation passes, but not under real time', () => {
    let stale = 0;
    for (let s = seed; s < seed + 50; s++) {
      const h = snapshotIsolationHistory(new SeededRng(s), 150, 4, 3, 20);
      const res = checkListAppend(h);
      expect(res.ok, `seed ${s}: ${res.anomalies.map(describeAnomaly).join('; ')}`).toBe(true);
      const rt = checkListAppend(h, { realtime: true });
      if (!rt.ok) stale++;
      expect(rt.anomalies.every((a) => a.type.endsWith('-realtime')), `seed ${s}: ${rt.anomalies.map(describeAnomaly).join('; ')}`).toBe(true);
    }
    expect(stale).toBeGreaterThan(25);
  });

  it('checks 10,000 transactions quickly', () => {
    const h = snapshotIsolationHistory(new SeededRng(seed), 10_000, 10, 50);
    const t0 = performance.now();
    const res = checkListAppend(h, { realtime: true });
    const ms = performance.now() - t0;
    expect(res.ok, res.anomalies.slice(0, 5).map(describeAnomaly).join('; ')).toBe(true);
    // Well under a second when the machine is idle; generous here for a loaded CI box.
    expect(ms).toBeLessThan(3000);
  });
});

describe('bank checker', () => {
  const initial = { a: 10, b: 10, c: 0 };

  it('accepts snapshot reads that conserve the total, as records or maps', () => {
    const reads = [
      { id: 1, balances: { a: 10, b: 10, c: 0 } },
      { id: 2, balances: new Map([['a', 5], ['b', 10], ['c', 5]]) },
    ];
    expect(checkBank(initial, reads)).toEqual({ ok: true, anomalies: [], counts: { 'wrong-total': 0, 'negative-balance': 0, 'wrong-accounts': 0 } });
  });

  it('reports every read with the wrong total', () => {
    const res = checkBank(new Map(Object.entries(initial)), [
      { id: 1, balances: { a: 5, b: 10, c: 0 } },
      { id: 2, balances: { a: 10, b: 10, c: 0 } },
      { id: 3, balances: { a: 15, b: 10, c: 0 } },
    ]);
    expect(res.ok).toBe(false);
    expect(res.anomalies).toEqual([
      { type: 'wrong-total', detail: { read: 1, total: 15, expected: 20 } },
      { type: 'wrong-total', detail: { read: 3, total: 25, expected: 20 } },
    ]);
  });

  it('reports negative balances unless the workload allows them', () => {
    const reads = [{ id: 1, balances: { a: 25, b: -5, c: 0 } }];
    expect(checkBank(initial, reads).anomalies).toEqual([{ type: 'negative-balance', detail: { read: 1, account: 'b', balance: -5 } }]);
    expect(checkBank(initial, reads, { negativeAllowed: true }).ok).toBe(true);
  });

  it('reports reads over the wrong set of accounts', () => {
    const res = checkBank(initial, [{ id: 7, balances: { a: 10, b: 10, d: 0 } }]);
    expect(res.anomalies).toEqual([{ type: 'wrong-accounts', detail: { read: 7, missing: ['c'], unexpected: ['d'] } }]);
    expect(describeAnomaly(res.anomalies[0])).toBe('wrong-accounts: read 7 lacks [c], has unknown [d]');
  });
});
