/**
 * Reads at a timestamp (read.ts): get and scan see exactly the versions
 * committed at or below it, are blocked by a lock of a transaction that
 * started at or below it (Percolator §2.2), and page with a limit.
 */
import { describe, expect, it } from 'vitest';
import { LATEST } from '../index.js';
import { bytes, commit, keyLock, kvDelete, kvPut, prewrite, text, TxnHarness } from '../../../test/support/txn-harness.js';

/**
 * a: put a1 @11, put a2 @30 (txn 20), delete @41, put a3 @51;
 * b: put b1 @30 (txn 20), long b2 @35 (txn 32);
 * c: put c1 @5, locked by txn 60 (a put);  d: locked by txn 70 (a delete), nothing committed.
 */
async function history(): Promise<TxnHarness> {
  const h = new TxnHarness();
  await h.applyAll(
    kvPut('c', 'c1', 4n),
    kvPut('a', 'a1', 10n),
    prewrite(20n, 'a', [['a', 'a2'], ['b', 'b1']]),
    commit(20n, 30n, ['a', 'b']),
    prewrite(32n, 'b', [['b', 'b'.repeat(300)]]),
    commit(32n, 35n, ['b']),
    kvDelete('a', 40n),
    kvPut('a', 'a3', 50n),
    prewrite(60n, 'c', [['c', 'c2']]),
    prewrite(70n, 'd', [['d']]),
  );
  return h;
}

const B2 = 'b'.repeat(300);

describe('get at a timestamp', () => {
  it.each([
    { key: 'a', ts: 0n, want: undefined },
    { key: 'a', ts: 10n, want: undefined },
    { key: 'a', ts: 11n, want: 'a1' },
    { key: 'a', ts: 29n, want: 'a1' },
    { key: 'a', ts: 30n, want: 'a2' },
    { key: 'a', ts: 40n, want: 'a2' },
    { key: 'a', ts: 41n, want: undefined },
    { key: 'a', ts: 50n, want: undefined },
    { key: 'a', ts: 51n, want: 'a3' },
    { key: 'a', ts: LATEST, want: 'a3' },
    { key: 'b', ts: 29n, want: undefined },
    { key: 'b', ts: 30n, want: 'b1' },
    { key: 'b', ts: 34n, want: 'b1' },
    { key: 'b', ts: 35n, want: B2 },
    { key: 'b', ts: LATEST, want: B2 },
    { key: 'c', ts: 4n, want: undefined },
    { key: 'c', ts: 5n, want: 'c1' },
    { key: 'c', ts: 59n, want: 'c1' },
    { key: 'd', ts: 69n, want: undefined },
    { key: 'zz', ts: LATEST, want: undefined },
  ])('$key at $ts', async ({ key, ts, want }) => {
    const h = await history();
    expect(await h.get(key, ts)).toEqual({ kind: 'value', value: want === undefined ? undefined : bytes(want) });
  });

  it.each([
    { key: 'c', ts: 60n, lock: keyLock('c', 'c', 60n, 'c2') },
    { key: 'c', ts: LATEST, lock: keyLock('c', 'c', 60n, 'c2') },
    { key: 'd', ts: 70n, lock: keyLock('d', 'd', 70n, undefined) },
    { key: 'd', ts: 1000n, lock: keyLock('d', 'd', 70n, undefined) },
  ])('$key at $ts meets the lock of a transaction that started at or below it', async ({ key, ts, lock }) => {
    const h = await history();
    expect(await h.get(key, ts)).toEqual({ kind: 'locked', locks: [lock] });
  });
});

describe('scan at a timestamp', () => {
  const view = (r: { items: { key: Uint8Array; value: Uint8Array }[] }) => r.items.map((i) => `${text(i.key)}=${text(i.value)!.slice(0, 3)}`);

  it.each([
    { ts: 10n, items: ['c=c1'], locks: [] },
    { ts: 11n, items: ['a=a1', 'c=c1'], locks: [] },
    { ts: 30n, items: ['a=a2', 'b=b1', 'c=c1'], locks: [] },
    { ts: 35n, items: ['a=a2', 'b=bbb', 'c=c1'], locks: [] },
    { ts: 41n, items: ['b=bbb', 'c=c1'], locks: [] },
    { ts: 59n, items: ['a=a3', 'b=bbb', 'c=c1'], locks: [] },
    { ts: 60n, items: ['a=a3', 'b=bbb'], locks: ['c'] },
    { ts: LATEST, items: ['a=a3', 'b=bbb'], locks: ['c', 'd'] },
  ])('at $ts: deletes hide keys, locks at or below ts are returned', async ({ ts, items, locks }) => {
    const h = await history();
    const r = await h.scan('', '', ts);
    expect(view(r)).toEqual(items);
    expect(r.locks.map((l) => text(l.key))).toEqual(locks);
    expect(r.more).toBe(false);
  });

  it('returns the locks whole', async () => {
    const h = await history();
    expect((await h.scan('c', '', LATEST)).locks).toEqual([keyLock('c', 'c', 60n, 'c2'), keyLock('d', 'd', 70n, undefined)]);
  });

  it.each([
    { start: 'a', end: 'b', items: ['a=a3'] },
    { start: 'b', end: '', items: ['b=bbb', 'c=c1'] },
    { start: 'a\0', end: 'c', items: ['b=bbb'] },
    { start: 'bb', end: 'c\0', items: ['c=c1'] },
    { start: 'd', end: '', items: [] },
  ])('[$start, $end) bounds the keys', async ({ start, end, items }) => {
    const h = await history();
    expect(view(await h.scan(start, end, 59n))).toEqual(items);
  });

  it('keys that are prefixes of one another, or hold zero bytes, come in byte order', async () => {
    const h = new TxnHarness();
    const ks = ['b', 'a\0', 'ab', 'a', 'a\0\0', '\0'];
    for (const [i, k] of ks.entries()) await h.applyAll(kvPut(k, `${i}`, 10n + BigInt(i)));
    expect((await h.scan('', '')).items.map((i) => Array.from(i.key))).toEqual([[0], [97], [97, 0], [97, 0, 0], [97, 98], [98]]);
    expect((await h.scan('a', 'ab')).items.map((i) => Array.from(i.key))).toEqual([[97], [97, 0], [97, 0, 0]]);
  });

  it.each([
    { limit: 1, items: ['k0'], more: true },
    { limit: 3, items: ['k0', 'k1', 'k2'], more: true },
    { limit: 4, items: ['k0', 'k1', 'k2', 'k4'], more: true },
    { limit: 5, items: ['k0', 'k1', 'k2', 'k4', 'k5'], more: false },
    { limit: 100, items: ['k0', 'k1', 'k2', 'k4', 'k5'], more: false },
  ])('limit $limit: items in key order, more=$more', async ({ limit, items, more }) => {
    // k3 is deleted; k4 and k5 follow it.
    const h = new TxnHarness();
    for (let i = 0; i < 6; i++) await h.applyAll(kvPut(`k${i}`, `v${i}`, 10n + BigInt(i)));
    await h.applyAll(kvDelete('k3', 30n));
    const r = await h.scan('', '', LATEST, limit);
    expect(r.items.map((i) => text(i.key))).toEqual(items);
    expect(r.more).toBe(more);
  });
});
