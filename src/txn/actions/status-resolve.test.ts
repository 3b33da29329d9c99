/**
 * Deciding for a transaction from its primary (checkTxnStatus, heartbeat) and
 * carrying the decision to its other keys (resolveLock). After TiKV's
 * actions/check_txn_status.rs and commands/resolve_lock.rs tests.
 */
import { describe, expect, it } from 'vitest';
import type { TxnCommand, TxnResult } from '../index.js';
import { bytes, checkTxnStatus, commit, conflict, heartbeat, kvPut, ms, ok, prewrite, resolveLock, rollback, TxnHarness } from '../../../test/support/txn-harness.js';

const START = ms(100);
const ROLLBACK_RECORD = { kind: 'rollback', startTs: START, value: undefined };

/** Txn START locked p (primary, ttl 3000) and s. */
async function locked(ttlMs = 3000): Promise<TxnHarness> {
  const h = new TxnHarness();
  await h.applyAll(prewrite(START, 'p', [['p', 'pv'], ['s', 'x'.repeat(300)]], { ttlMs }));
  return h;
}

describe('checkTxnStatus', () => {
  // The lock started at 100 ms with a TTL of 3000 ms: alive while now < 3100 ms.
  it.each([
    { now: ms(100), want: { kind: 'alive', ttlMs: 3000 } },
    { now: ms(3099), want: { kind: 'alive', ttlMs: 3000 } },
    { now: ms(3099, 262_143), want: { kind: 'alive', ttlMs: 3000 } },
    { now: ms(3100), want: { kind: 'rolledBack' } },
    { now: ms(99_999), want: { kind: 'rolledBack' } },
  ] satisfies { now: bigint; want: TxnResult }[])('now=$now: $want.kind', async ({ now, want }) => {
    const h = await locked();
    const dump = await h.dump();
    expect(await h.apply(checkTxnStatus('p', START, now))).toEqual(want);
    if (want.kind === 'alive') expect(await h.dump()).toEqual(dump);
  });

  it('past the TTL, rolls the primary back for good: a later commit and a late prewrite fail', async () => {
    const h = await locked();
    expect(await h.apply(checkTxnStatus('p', START, ms(4000)))).toEqual({ kind: 'rolledBack' });
    const meta = await h.meta('p');
    expect(meta?.lock).toBeUndefined();
    expect(meta?.maxTs).toBe(START);
    expect(await h.writes('p')).toEqual([[START, ROLLBACK_RECORD]]);
    // The secondary is not touched: resolving it is the reader's next step.
    expect((await h.meta('s'))?.lock?.startTs).toBe(START);
    expect(await h.apply(commit(START, ms(4001), ['p']))).toEqual({ kind: 'rolledBack' });
    expect(await h.apply(prewrite(START, 'p', [['p', 'pv']]))).toEqual(conflict('p', START));
    // Asked again, the same answer, without another change.
    expect(await h.apply(checkTxnStatus('p', START, ms(5000)))).toEqual({ kind: 'rolledBack' });
    expect(h.lastOps).toEqual([]);
  });

  it('past the TTL, a long value of the primary goes with its lock', async () => {
    const h = new TxnHarness();
    await h.applyAll(prewrite(START, 'p', [['p', 'y'.repeat(300)]]));
    expect(await h.dataOf('p')).toEqual([START]);
    await h.apply(checkTxnStatus('p', START, ms(4000)));
    expect(await h.dataOf('p')).toEqual([]);
  });

  it.each([
    { name: 'its version is the newest', after: [] },
    { name: 'a newer version hides it', after: [kvPut('p', 'newer', ms(300))] },
    { name: 'a newer rollback record sits above it', after: [rollback(ms(300), ['p'])] },
  ] satisfies { name: string; after: TxnCommand[] }[])('of a committed transaction answers committed at its commitTs, changing nothing ($name)', async ({ after }) => {
    const h = await locked();
    await h.applyAll(commit(START, ms(200), ['p']), ...after);
    const dump = await h.dump();
    expect(await h.apply(checkTxnStatus('p', START, ms(100_000)))).toEqual({ kind: 'committed', commitTs: ms(200) });
    expect(await h.dump()).toEqual(dump);
  });

  it('of a rolled-back transaction answers rolledBack, changing nothing', async () => {
    const h = await locked();
    await h.applyAll(rollback(START, ['p', 's']));
    const dump = await h.dump();
    expect(await h.apply(checkTxnStatus('p', START, ms(200)))).toEqual({ kind: 'rolledBack' });
    expect(await h.dump()).toEqual(dump);
  });

  it.each([
    { name: 'an untouched key', before: [] },
    { name: "a key locked by another transaction (its lock stays)", before: [prewrite(ms(50), 'p', [['p', 'theirs']])] },
    { name: 'a key with older versions', before: [kvPut('p', 'old', ms(50))] },
  ] satisfies { name: string; before: TxnCommand[] }[])('of a primary with no lock and no record: rolled back, and a later prewrite fails ($name)', async ({ before }) => {
    const h = new TxnHarness();
    await h.applyAll(...before);
    const lockBefore = (await h.meta('p'))?.lock;
    expect(await h.apply(checkTxnStatus('p', START, ms(150)))).toEqual({ kind: 'rolledBack' });
    expect((await h.writes('p'))[0]).toEqual([START, ROLLBACK_RECORD]);
    expect((await h.meta('p'))?.lock).toEqual(lockBefore);
    const late = await h.apply(prewrite(START, 'p', [['p', 'pv']]));
    expect(late.kind).toBe(lockBefore ? 'locked' : 'conflict');
    if (!lockBefore) expect(late).toEqual(conflict('p', START));
    expect(await h.apply(commit(START, ms(200), ['p']))).toEqual({ kind: 'rolledBack' });
  });
});

describe('heartbeat', () => {
  it('extends the TTL of a live primary lock, so a later status check finds it alive', async () => {
    const h = await locked(1000);
    expect(await h.apply(checkTxnStatus('p', START, ms(1200)))).toEqual({ kind: 'rolledBack' });
    const g = await locked(1000);
    expect(await g.apply(heartbeat('p', START, 5000))).toEqual({ kind: 'alive', ttlMs: 5000 });
    expect((await g.meta('p'))?.lock?.ttlMs).toBe(5000);
    expect(await g.apply(checkTxnStatus('p', START, ms(1200)))).toEqual({ kind: 'alive', ttlMs: 5000 });
    expect(await g.apply(checkTxnStatus('p', START, ms(5100)))).toEqual({ kind: 'rolledBack' });
  });

  it('of a primary never locked answers rolledBack and writes nothing (unlike a status check)', async () => {
    const h = new TxnHarness();
    expect(await h.apply(heartbeat('p', START, 9000))).toEqual({ kind: 'rolledBack' });
    expect(h.lastOps).toEqual([]);
  });

  it('never shortens the TTL', async () => {
    const h = await locked(3000);
    expect(await h.apply(heartbeat('p', START, 10))).toEqual({ kind: 'alive', ttlMs: 3000 });
    expect((await h.meta('p'))?.lock?.ttlMs).toBe(3000);
  });

  it.each([
    { name: 'committed', before: [commit(START, ms(200), ['p'])], want: { kind: 'committed', commitTs: ms(200) } },
    { name: 'rolled back', before: [rollback(START, ['p'])], want: { kind: 'rolledBack' } },
    { name: 'rolled back, then overwritten', before: [resolveLock(START, 0n, ['p']), kvPut('p', 'v', ms(300))], want: { kind: 'rolledBack' } },
  ] satisfies { name: string; before: TxnCommand[]; want: TxnResult }[])('without the lock answers the outcome and changes nothing: $name', async ({ before, want }) => {
    const h = await locked();
    await h.applyAll(...before);
    const dump = await h.dump();
    expect(await h.apply(heartbeat('p', START, 9000))).toEqual(want);
    expect(await h.dump()).toEqual(dump);
  });
});

describe('resolveLock', () => {
  /** Txn START locked a, b, c (c long); txn OTHER locked d; keys a..d, with the range [a, c) when `narrow`. */
  const OTHER = ms(110);
  async function setup(narrow = false): Promise<TxnHarness> {
    const h = new TxnHarness(narrow ? { start: bytes('a'), end: bytes('c') } : undefined);
    await h.applyAll(kvPut('a', 'a0', ms(10)), prewrite(START, 'a', [['a', 'a1'], ['b'], ['c', 'c'.repeat(300)]]), prewrite(OTHER, 'd', [['d', 'd1']]));
    return h;
  }
  const lockOf = async (h: TxnHarness, k: string) => (await h.meta(k))?.lock?.startTs;

  it.each([
    { name: 'commits the listed keys', commitTs: ms(200), keys: ['a', 'b'], narrow: false, resolved: ['a', 'b'] },
    { name: 'rolls back the listed keys', commitTs: 0n, keys: ['a', 'c'], narrow: false, resolved: ['a', 'c'] },
    { name: "skips a listed key locked by another transaction, or not locked", commitTs: ms(200), keys: ['d', 'e', 'b'], narrow: false, resolved: ['b'] },
    { name: 'commits every lock of the transaction in the range when no key is listed', commitTs: ms(200), keys: [], narrow: false, resolved: ['a', 'b', 'c'] },
    { name: 'rolls back every lock of the transaction in the range when no key is listed', commitTs: 0n, keys: [], narrow: false, resolved: ['a', 'b', 'c'] },
    { name: 'scans only the range', commitTs: ms(200), keys: [], narrow: true, resolved: ['a', 'b'] },
  ])('$name', async ({ commitTs, keys, narrow, resolved }) => {
    const h = await setup(narrow);
    expect(await h.apply(resolveLock(START, commitTs, keys))).toEqual(ok());
    for (const k of ['a', 'b', 'c']) expect(await lockOf(h, k)).toBe(resolved.includes(k) ? undefined : START);
    expect(await lockOf(h, 'd')).toBe(OTHER);
    const at = ms(1000);
    for (const k of resolved) {
      const [ts, rec] = (await h.writes(k))[0];
      expect([ts, rec.kind, rec.startTs]).toEqual(commitTs > 0n ? [commitTs, k === 'b' ? 'delete' : 'put', START] : [START, 'rollback', START]);
    }
    const want = { a: commitTs > 0n ? 'a1' : 'a0', b: undefined, c: commitTs > 0n ? 'c'.repeat(300) : undefined };
    for (const k of resolved) expect(await h.value(k, at)).toBe(want[k as keyof typeof want]);
    if (commitTs === 0n && resolved.includes('c')) expect(await h.dataOf('c')).toEqual([]);
  });

  it('a retry changes nothing', async () => {
    const h = await setup();
    await h.applyAll(resolveLock(START, ms(200), []));
    const dump = await h.dump();
    expect(await h.apply(resolveLock(START, ms(200), []))).toEqual(ok());
    expect(await h.apply(resolveLock(START, ms(200), ['a', 'b', 'c']))).toEqual(ok());
    expect(await h.dump()).toEqual(dump);
  });
});
