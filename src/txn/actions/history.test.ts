/**
 * Randomized histories against a deliberately simple model (STYLE.md §2.6):
 * `/kv` writes, two-phase and one-phase transactions that commit, roll back or
 * are resolved by a reader after their coordinator vanished, with reads at
 * random timestamps; every result and read is predicted by the model, and the
 * records are checked for consistency after every step. Then GC at a random
 * safe point must leave every read at or above it unchanged, keep only the
 * version visible there, and leave locks alone (they commit afterwards).
 *
 * TXN_SEED=<n> replays from history n (the seed is in the test's name and in
 * every failure); TXN_HISTORIES sets how many histories run.
 */
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../runtime/index.js';
import type { GetResult, KeyLock, TxnCommand, TxnResult } from '../index.js';
import { LATEST } from '../index.js';
import { INLINE_VALUE_BYTES } from '../mvcc/records.js';
import { bytes, checkTxnStatus, commit, conflict, formatResult, gc, heartbeat, keyLock, kvCas, kvDelete, kvPut, ms, ok, prewrite, resolveLock, rollback, text, TxnHarness } from '../../../test/support/txn-harness.js';
import type { M } from '../../../test/support/txn-harness.js';

const SEED = Number(process.env.TXN_SEED ?? Math.floor(Math.random() * 2 ** 31));
const HISTORIES = Number(process.env.TXN_HISTORIES ?? 25);
const STEPS = 60;
const KEYS = ['a', 'a\0', 'b', 'c', 'd'];
const TTL = 3000;

interface OpenTxn {
  readonly startTs: bigint;
  readonly primary: string;
  readonly muts: readonly M[];
}

/** What the range should hold: committed versions (ascending), maxTs and locks per key. */
class Model {
  readonly versions = new Map<string, { commitTs: bigint; value: string | undefined }[]>();
  readonly maxTs = new Map<string, bigint>();
  readonly locks = new Map<string, OpenTxn>();
  readonly commitTimestamps = new Set<bigint>();

  valueAt(k: string, ts: bigint): string | undefined {
    let v: string | undefined;
    for (const x of this.versions.get(k) ?? []) if (x.commitTs <= ts) v = x.value;
    return v;
  }

  lockOf(k: string): KeyLock | undefined {
    const t = this.locks.get(k);
    if (!t) return undefined;
    const [, value] = t.muts.find(([mk]) => mk === k)!;
    // A long value waits in the data column; the lock carries only a short one.
    return { ...keyLock(k, t.primary, t.startTs, value, TTL), value: value !== undefined && value.length <= INLINE_VALUE_BYTES ? bytes(value) : undefined };
  }

  get(k: string, ts: bigint): GetResult {
    const lock = this.lockOf(k);
    if (lock && lock.startTs <= ts) return { kind: 'locked', locks: [lock] };
    const v = this.valueAt(k, ts);
    return { kind: 'value', value: v === undefined ? undefined : bytes(v) };
  }

  bump(k: string, ts: bigint): void {
    if (ts > (this.maxTs.get(k) ?? 0n)) this.maxTs.set(k, ts);
  }

  version(k: string, commitTs: bigint, value: string | undefined): void {
    const vs = this.versions.get(k) ?? [];
    vs.push({ commitTs, value });
    vs.sort((x, y) => (x.commitTs < y.commitTs ? -1 : 1));
    this.versions.set(k, vs);
    this.bump(k, commitTs);
    this.commitTimestamps.add(commitTs);
  }
}

class History {
  readonly h = new TxnHarness();
  readonly m = new Model();
  readonly open: OpenTxn[] = [];
  readonly log: string[] = [];
  now = 1000n;

  constructor(readonly rng: SeededRng, readonly seed: number) {}

  tso(): bigint {
    this.now += BigInt(1 + this.rng.int(3));
    return this.now;
  }

  value(): string {
    return this.rng.chance(0.2) ? String.fromCharCode(97 + this.rng.int(26)).repeat(257 + this.rng.int(100)) : `v${this.rng.int(1000)}`;
  }

  /** Expects toEqual, naming the seed and the last steps on a failure (the message is built only then: it is costly). */
  same(actual: unknown, want: unknown, what: string): void {
    if (isDeepStrictEqual(actual, want)) return;
    expect(actual, `${what}\nTXN_SEED=${this.seed}; steps:\n${this.log.slice(-30).join('\n')}`).toEqual(want);
  }

  async apply(cmd: TxnCommand, want: TxnResult): Promise<TxnResult> {
    const res = await this.h.apply(cmd);
    this.log.push(`${describeCmd(cmd)} -> ${JSON.stringify(formatResult(res).join(' '))}`);
    this.same(res, want, `${cmd.kind}: unexpected result`);
    return res;
  }

  async kvWrite(): Promise<void> {
    const k = this.rng.pick(KEYS);
    const ts = this.tso();
    const floor = this.rng.chance(0.3) ? this.now - 5n + BigInt(this.rng.int(8)) : 0n;
    const op = this.rng.pick(['put', 'delete', 'cas'] as const);
    const current = this.m.valueAt(k, LATEST);
    const expectValue = op !== 'cas' ? undefined : this.rng.chance(0.6) ? current : this.rng.chance(0.5) ? undefined : 'nope';
    const value = op === 'delete' || (op === 'cas' && this.rng.chance(0.3)) ? undefined : this.value();
    const cmd = op === 'put' ? kvPut(k, value!, ts, floor) : op === 'delete' ? kvDelete(k, ts, floor) : kvCas(k, expectValue, value, ts, floor);
    const commitTs = (ts > floor ? ts : floor) + 1n;
    const lock = this.m.lockOf(k);
    let want: TxnResult;
    if (lock) want = { kind: 'locked', locks: [lock] };
    else if ((this.m.maxTs.get(k) ?? 0n) >= commitTs) want = { kind: 'tsTooOld', maxTs: this.m.maxTs.get(k)! };
    else if (op === 'put') want = ok(commitTs);
    else if (op === 'delete') want = ok(commitTs, { deleted: current !== undefined });
    else if (expectValue !== current) want = { kind: 'casFailed', current: current === undefined ? undefined : bytes(current) };
    else want = ok(commitTs, { current });
    await this.apply(cmd, want);
    if (want.kind !== 'ok') return;
    if (op === 'put' || (op === 'cas' && value !== undefined)) this.m.version(k, commitTs, value);
    else if (current !== undefined) this.m.version(k, commitTs, undefined);
  }

  async begin(): Promise<void> {
    const ks = KEYS.filter(() => this.rng.chance(0.4));
    if (ks.length === 0) ks.push(this.rng.pick(KEYS));
    const startTs = this.tso();
    const muts: M[] = ks.map((k) => (this.rng.chance(0.25) ? [k] : [k, this.value()]));
    const onePc = this.rng.chance(0.25);
    const floor = onePc && this.rng.chance(0.5) ? this.now + BigInt(this.rng.int(4)) - 2n : 0n;
    const txn: OpenTxn = { startTs, primary: ks[0], muts };
    // As prewrite.ts decides: the first key with a newer record and no lock conflicts; else the locks of others are reported.
    const conflictKey = ks.find((k) => !this.m.locks.has(k) && (this.m.maxTs.get(k) ?? -1n) >= startTs);
    const locks = ks.map((k) => this.m.lockOf(k)).filter((l): l is KeyLock => l !== undefined);
    const commitTs = (startTs > floor ? startTs : floor) + 1n;
    const want: TxnResult = conflictKey
      ? conflict(conflictKey, this.m.maxTs.get(conflictKey)!)
      : locks.length > 0
        ? { kind: 'locked', locks }
        : onePc
          ? ok(commitTs)
          : ok();
    const res = await this.apply(prewrite(startTs, ks[0], muts, { ttlMs: TTL, onePc, floor }), want);
    if (res.kind !== 'ok') {
      // The coordinator gives up.
      await this.apply(rollback(startTs, ks), ok());
      for (const k of ks) this.m.bump(k, startTs);
    } else if (onePc) {
      for (const [k, v] of muts) this.m.version(k, commitTs, v);
    } else {
      this.open.push(txn);
      for (const k of ks) this.m.locks.set(k, txn);
    }
  }

  /** Ends an open transaction one of the ways a coordinator or a reader would. */
  async finish(t: OpenTxn, way = this.rng.int(5)): Promise<void> {
    this.open.splice(this.open.indexOf(t), 1);
    const ks = t.muts.map(([k]) => k);
    const secondaries = ks.slice(1);
    const commitTs = this.tso();
    switch (way) {
      case 0: // the coordinator commits the primary, then the rest
        await this.apply(commit(t.startTs, commitTs, [t.primary]), ok(commitTs));
        if (secondaries.length > 0) await this.apply(commit(t.startTs, commitTs, secondaries), ok(commitTs));
        break;
      case 1: // the coordinator commits the primary and vanishes (a stale rollback of it is refused); a reader rolls the rest forward
        await this.apply(commit(t.startTs, commitTs, [t.primary]), ok(commitTs));
        if (this.rng.chance(0.5)) await this.apply(rollback(t.startTs, [...secondaries, t.primary]), { kind: 'committed', commitTs });
        await this.apply(checkTxnStatus(t.primary, t.startTs, ms(10_000_000)), { kind: 'committed', commitTs });
        await this.apply(resolveLock(t.startTs, commitTs, this.rng.chance(0.5) ? [] : secondaries), ok());
        break;
      case 2: // the coordinator gives up
        await this.apply(rollback(t.startTs, this.rng.chance(0.5) ? ks : [...ks].reverse()), ok());
        break;
      case 3: // the coordinator vanishes before committing; a reader finds the primary expired and rolls everything back
        await this.apply(heartbeat(t.primary, t.startTs, TTL), { kind: 'alive', ttlMs: TTL });
        await this.apply(checkTxnStatus(t.primary, t.startTs, t.startTs), { kind: 'alive', ttlMs: TTL });
        await this.apply(checkTxnStatus(t.primary, t.startTs, ms(10_000_000)), { kind: 'rolledBack' });
        await this.apply(commit(t.startTs, commitTs, [...secondaries, t.primary]), { kind: 'rolledBack' });
        await this.apply(resolveLock(t.startTs, 0n, this.rng.chance(0.5) ? [] : secondaries), ok());
        break;
      default: // the coordinator commits everything at once
        await this.apply(commit(t.startTs, commitTs, this.rng.chance(0.5) ? ks : [...ks].reverse()), ok(commitTs));
    }
    for (const k of ks) this.m.locks.delete(k);
    if (way === 2 || way === 3) for (const k of ks) this.m.bump(k, t.startTs);
    else for (const [k, v] of t.muts) this.m.version(k, commitTs, v);
  }

  /** Where reads can differ: at and just below each commit, at each open start; a random half of them, and the ends. */
  readTimestamps(): bigint[] {
    const all = [...[...this.m.commitTimestamps].flatMap((ts) => [ts - 1n, ts]), ...this.open.map((t) => t.startTs)];
    return [0n, ...all.filter(() => this.rng.chance(0.5)), this.now, LATEST];
  }

  async checkReads(from = 0n): Promise<void> {
    for (const ts of this.readTimestamps().filter((t) => t >= from)) {
      for (const k of KEYS) this.same(await this.h.get(k, ts), this.m.get(k, ts), `get ${JSON.stringify(k)} at ${ts}`);
      const scanned = await this.h.scan('', '', ts);
      const want = KEYS.map((k) => [k, this.m.get(k, ts)] as const);
      const items = want.flatMap(([k, g]) => (g.kind === 'value' && g.value ? [[k, text(g.value)]] : []));
      this.same(
        scanned.items.map((i) => [text(i.key), text(i.value)]),
        items,
        `scan at ${ts}`,
      );
      this.same(scanned.locks, want.flatMap(([, g]) => (g.kind === 'locked' ? g.locks : [])), `scan locks at ${ts}`);
    }
  }

  /** The records agree with one another: metadata with the write column, long values with what points at them. */
  async checkRecords(): Promise<void> {
    for (const k of KEYS) {
      const meta = await this.h.meta(k);
      const writes = await this.h.writes(k);
      const data = await this.h.dataOf(k);
      const newest = writes.find(([, w]) => w.kind !== 'rollback');
      const longValues = [...writes.filter(([, w]) => w.kind === 'put' && w.value === undefined).map(([, w]) => w.startTs), ...(meta?.lock?.kind === 'put' && !meta.lock.value ? [meta.lock.startTs] : [])];
      this.same(
        {
          latest: meta?.latest && [meta.latest.commitTs, meta.latest.startTs, meta.latest.kind],
          maxTsCoversWrites: writes.every(([ts]) => meta!.maxTs >= ts),
          lock: meta?.lock?.startTs,
          data: [...data].sort(),
        },
        {
          latest: newest && [newest[0], newest[1].startTs, newest[1].kind],
          maxTsCoversWrites: true,
          lock: this.m.locks.get(k)?.startTs,
          data: [...new Set(longValues)].sort(),
        },
        `records of ${JSON.stringify(k)}`,
      );
    }
  }
}

function describeCmd(cmd: TxnCommand): string {
  return JSON.stringify(cmd, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v instanceof Uint8Array ? (v.length > 16 ? `<${v.length} bytes>` : text(v)) : v));
}

async function runHistory(seed: number): Promise<void> {
  const rng = new SeededRng(seed);
  const hist = new History(rng, seed);
  for (let step = 0; step < STEPS; step++) {
    const r = rng.int(10);
    if (r < 3) await hist.kvWrite();
    else if (r < 6) await hist.begin();
    else if (r < 9 && hist.open.length > 0) await hist.finish(rng.pick(hist.open));
    else {
      const ts = rng.chance(0.2) ? LATEST : BigInt(rng.int(Number(hist.now) + 10));
      const k = rng.pick(KEYS);
      hist.same(await hist.h.get(k, ts), hist.m.get(k, ts), `get ${JSON.stringify(k)} at ${ts}`);
    }
    await hist.checkRecords();
  }
  await hist.checkReads();

  // GC at a random safe point; some transactions may still be open.
  const safePoint = BigInt(900 + rng.int(Number(hist.now) - 899));
  const before = new Map<bigint, GetResult[]>();
  for (const ts of hist.readTimestamps().filter((t) => t >= safePoint)) before.set(ts, await Promise.all(KEYS.map((k) => hist.h.get(k, ts))));
  await hist.apply(gc(safePoint), ok());
  hist.log.push(`gc at ${safePoint}`);
  for (const [ts, gets] of before) hist.same(await Promise.all(KEYS.map((k) => hist.h.get(k, ts))), gets, `reads at ${ts} after gc at ${safePoint}`);
  await hist.checkReads(safePoint);
  await hist.checkRecords();
  for (const k of KEYS) {
    const kept = (await hist.h.writes(k)).filter(([ts]) => ts <= safePoint);
    const visible = hist.m.valueAt(k, safePoint);
    hist.same(kept.map(([, w]) => w.kind), visible === undefined ? [] : ['put'], `records of ${JSON.stringify(k)} at or below ${safePoint}`);
  }
  const dump = await hist.h.dump();
  await hist.apply(gc(safePoint), ok());
  hist.same(await hist.h.dump(), dump, 'a second gc changed something');

  // The open transactions end after the GC, and the keys go on.
  while (hist.open.length > 0) await hist.finish(hist.open[0]);
  for (let step = 0; step < 10; step++) await (rng.chance(0.5) ? hist.kvWrite() : hist.begin());
  while (hist.open.length > 0) await hist.finish(hist.open[0]);
  await hist.checkRecords();
  await hist.checkReads(safePoint);
}

describe(`randomized histories against a model (TXN_SEED=${SEED})`, () => {
  it(`${HISTORIES} histories of ${STEPS} steps: results, reads and records as the model says; GC keeps every read at or above the safe point`, async () => {
    for (let i = 0; i < HISTORIES; i++) await runHistory(SEED + i);
  });
});
