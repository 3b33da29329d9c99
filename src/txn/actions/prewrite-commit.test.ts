/**
 * The two phases of Percolator (§2.2) and giving up: prewrite (conflicts,
 * locks, retries, all-or-nothing, one-phase commit), commit and rollback.
 * Table-driven after TiKV's actions/prewrite.rs, commit.rs and cleanup.rs tests.
 */
import { describe, expect, it } from 'vitest';
import type { TxnCommand, TxnResult } from '../index.js';
import { bytes, checkTxnStatus, commit, conflict, keyLock, kvDelete, kvPut, ms, ok, prewrite, rollback, text, TxnHarness } from '../../../test/support/txn-harness.js';

const long = (c: string) => c.repeat(300);

describe('prewrite: write-write conflicts', () => {
  // `before` answers ok; then the prewrite of txn 20 on k.
  it.each([
    { name: 'a newer kvWrite', before: [kvPut('k', 'v', 30n)], startTs: 20n, want: conflict('k', 31n) },
    { name: 'a kvWrite committed exactly at startTs', before: [kvPut('k', 'v', 19n)], startTs: 20n, want: conflict('k', 20n) },
    { name: 'a kvWrite committed just below startTs', before: [kvPut('k', 'v', 18n)], startTs: 20n, want: ok() },
    { name: 'a transaction committed after startTs', before: [prewrite(10n, 'k', [['k', 'v']]), commit(10n, 25n, ['k'])], startTs: 20n, want: conflict('k', 25n) },
    { name: 'a transaction committed before startTs', before: [prewrite(10n, 'k', [['k', 'v']]), commit(10n, 15n, ['k'])], startTs: 20n, want: ok() },
    { name: 'its own rollback (a late prewrite must fail)', before: [rollback(20n, ['k'])], startTs: 20n, want: conflict('k', 20n) },
    { name: 'its own rollback after it had prewritten', before: [prewrite(20n, 'k', [['k', 'v']]), rollback(20n, ['k'])], startTs: 20n, want: conflict('k', 20n) },
    { name: 'a newer rollback record of another transaction', before: [rollback(30n, ['k'])], startTs: 20n, want: conflict('k', 30n) },
    { name: 'an older rollback record of another transaction', before: [rollback(10n, ['k'])], startTs: 20n, want: ok() },
    { name: 'a newer delete', before: [kvPut('k', 'v', 5n), kvDelete('k', 30n)], startTs: 20n, want: conflict('k', 31n) },
  ] satisfies { name: string; before: TxnCommand[]; startTs: bigint; want: TxnResult }[])('$name', async ({ before, startTs, want }) => {
    const h = new TxnHarness();
    await h.applyAll(...before);
    expect(await h.apply(prewrite(startTs, 'k', [['k', 'mine']]))).toEqual(want);
    expect((await h.meta('k'))?.lock?.startTs).toBe(want.kind === 'ok' ? startTs : undefined);
  });

  it('its own rollback by a status check of a primary it never reached', async () => {
    const h = new TxnHarness();
    expect(await h.apply(checkTxnStatus('p', ms(100), ms(100_000)))).toEqual({ kind: 'rolledBack' });
    expect(await h.apply(prewrite(ms(100), 'p', [['p', 'v']]))).toEqual(conflict('p', ms(100)));
  });
});

describe('prewrite: locks', () => {
  it('writes a lock per mutation with the primary, TTL, kind and short value; no version, maxTs unchanged', async () => {
    const h = new TxnHarness();
    await h.applyAll(kvPut('b', 'old', 5n));
    expect(await h.apply(prewrite(20n, 'a', [['a', '1'], ['b']], { ttlMs: 1234 }))).toEqual(ok());
    expect(await h.meta('a')).toEqual({ maxTs: 0n, latest: undefined, lock: { primary: bytes('a'), startTs: 20n, ttlMs: 1234, kind: 'put', value: bytes('1') } });
    const b = await h.meta('b');
    expect(b?.maxTs).toBe(6n);
    expect(b?.latest?.commitTs).toBe(6n);
    expect(b?.lock).toMatchObject({ startTs: 20n, kind: 'delete', value: undefined });
    expect(await h.writes('a')).toEqual([]);
  });

  it('a long value goes to the data column at startTs and the lock points at it', async () => {
    const h = new TxnHarness();
    await h.applyAll(prewrite(20n, 'a', [['a', long('x')]]));
    expect(await h.dataOf('a')).toEqual([20n]);
    expect((await h.meta('a'))?.lock?.value).toBeUndefined();
  });

  it.each([
    { name: 'an older transaction', other: 10n },
    { name: 'a newer transaction', other: 30n },
  ])("another transaction's lock answers locked with that lock ($name)", async ({ other }) => {
    const h = new TxnHarness();
    await h.applyAll(prewrite(other, 'x', [['x', 'xv'], ['k', 'theirs']], { ttlMs: 500 }));
    expect(await h.apply(prewrite(20n, 'a', [['a', '1'], ['k', 'mine']]))).toEqual({ kind: 'locked', locks: [keyLock('k', 'x', other, 'theirs', 500)] });
    expect(await h.meta('a')).toBeUndefined();
  });

  it('every lock in the way is reported, in mutation order', async () => {
    const h = new TxnHarness();
    await h.applyAll(prewrite(10n, 'c', [['c', 'c10']]), prewrite(12n, 'a', [['a']]));
    expect(await h.apply(prewrite(20n, 'a', [['a', '1'], ['b', '2'], ['c', '3']]))).toEqual({ kind: 'locked', locks: [keyLock('a', 'a', 12n, undefined), keyLock('c', 'c', 10n, 'c10')] });
  });

  it('a retried prewrite finds its own locks and succeeds again, changing nothing', async () => {
    const h = new TxnHarness();
    const cmd = prewrite(20n, 'a', [['a', '1'], ['b', long('y')], ['c']]);
    expect(await h.apply(cmd)).toEqual(ok());
    const dump = await h.dump();
    expect(await h.apply(cmd)).toEqual(ok());
    expect(h.lastOps).toEqual([]);
    expect(await h.dump()).toEqual(dump);
  });

  it('a retry that covers more keys locks the new ones too', async () => {
    const h = new TxnHarness();
    await h.applyAll(prewrite(20n, 'a', [['a', '1']]), prewrite(20n, 'a', [['a', '1'], ['b', '2']]));
    expect((await h.meta('a'))?.lock?.startTs).toBe(20n);
    expect((await h.meta('b'))?.lock?.startTs).toBe(20n);
  });

  // One key that fails means no lock on any key (and, with onePc, no version).
  it.each(
    (
      [
        { name: 'a conflict on the last key', before: [kvPut('c', 'v', 30n)], want: conflict('c', 31n) },
        { name: 'a conflict on the first key', before: [kvPut('a', 'v', 30n)], want: conflict('a', 31n) },
        { name: 'a lock on the middle key', before: [prewrite(10n, 'b', [['b', 'theirs']])], want: { kind: 'locked', locks: [keyLock('b', 'b', 10n, 'theirs')] } },
      ] satisfies { name: string; before: TxnCommand[]; want: TxnResult }[]
    ).flatMap((c) => [false, true].map((onePc) => ({ ...c, onePc }))),
  )('all or nothing: $name (onePc $onePc)', async ({ before, want, onePc }) => {
    const h = new TxnHarness();
    await h.applyAll(...before);
    const dump = await h.dump();
    expect(await h.apply(prewrite(20n, 'a', [['a', '1'], ['b', long('z')], ['c', '3']], { onePc }))).toEqual(want);
    expect(await h.dump()).toEqual(dump);
  });
});

describe('prewrite with onePc', () => {
  it.each([
    { startTs: 20n, floor: 0n, commitTs: 21n },
    { startTs: 20n, floor: 20n, commitTs: 21n },
    { startTs: 20n, floor: 40n, commitTs: 41n },
  ])('startTs=$startTs floor=$floor commits at $commitTs and leaves no lock', async ({ startTs, floor, commitTs }) => {
    const h = new TxnHarness();
    await h.applyAll(kvPut('b', 'old', 5n));
    expect(await h.apply(prewrite(startTs, 'a', [['a', '1'], ['b'], ['c', long('c')]], { onePc: true, floor }))).toEqual(ok(commitTs));
    for (const k of ['a', 'b', 'c']) {
      const meta = await h.meta(k);
      expect(meta?.lock).toBeUndefined();
      expect(meta?.maxTs).toBe(commitTs);
      expect((await h.writes(k))[0]).toEqual([commitTs, expect.objectContaining({ startTs })]);
    }
    expect([await h.value('a', commitTs - 1n), await h.value('b', commitTs - 1n), await h.value('c', commitTs - 1n)]).toEqual([undefined, 'old', undefined]);
    expect([await h.value('a', commitTs), await h.value('b', commitTs), await h.value('c', commitTs)]).toEqual(['1', undefined, long('c')]);
  });

});

describe('commit', () => {
  async function prewritten(): Promise<TxnHarness> {
    const h = new TxnHarness();
    await h.applyAll(kvPut('b', 'old', 2n), prewrite(10n, 'a', [['a', '1'], ['b'], ['c', long('c')]]));
    return h;
  }

  it('turns the locks into versions visible at commitTs and not below', async () => {
    const h = await prewritten();
    expect(await h.apply(commit(10n, 20n, ['a', 'b', 'c']))).toEqual(ok(20n));
    for (const k of ['a', 'b', 'c']) {
      const meta = await h.meta(k);
      expect(meta?.lock).toBeUndefined();
      expect(meta?.maxTs).toBe(20n);
      expect(meta?.latest).toMatchObject({ commitTs: 20n, startTs: 10n });
      expect((await h.writes(k))[0]).toEqual([20n, expect.objectContaining({ startTs: 10n })]);
    }
    expect([await h.value('a', 19n), await h.value('b', 19n), await h.value('c', 19n)]).toEqual([undefined, 'old', undefined]);
    expect([await h.value('a', 20n), await h.value('b', 20n), await h.value('c', 20n)]).toEqual(['1', undefined, long('c')]);
    // The long value stays where the prewrite put it.
    expect(await h.dataOf('c')).toEqual([10n]);
  });

  it('before the commit, a read at or above startTs meets the lock', async () => {
    const h = await prewritten();
    expect((await h.get('a', 10n)).kind).toBe('locked');
    expect(await h.value('b', 9n)).toBe('old');
  });

  it('can go key by key, and a retry answers the same, changing nothing', async () => {
    const h = await prewritten();
    expect(await h.apply(commit(10n, 20n, ['a']))).toEqual(ok(20n));
    expect((await h.meta('b'))?.lock?.startTs).toBe(10n);
    expect(await h.apply(commit(10n, 20n, ['b', 'c']))).toEqual(ok(20n));
    const dump = await h.dump();
    expect(await h.apply(commit(10n, 20n, ['a', 'b', 'c']))).toEqual(ok(20n));
    expect(h.lastOps).toEqual([]);
    expect(await h.dump()).toEqual(dump);
  });

  it.each([
    { name: 'never prewritten', before: [] },
    { name: 'rolled back', before: [prewrite(10n, 'k', [['k', 'v']]), rollback(10n, ['k'])] },
    { name: 'rolled back before its prewrite', before: [rollback(10n, ['k'])] },
    { name: 'rolled back by a status check past the TTL', before: [prewrite(10n, 'k', [['k', 'v']], { ttlMs: 1 }), checkTxnStatus('k', 10n, ms(1000))] },
    { name: "locked by another transaction", before: [prewrite(15n, 'k', [['k', 'v']])] },
    { name: 'committed by another transaction at that commitTs', before: [kvPut('k', 'v', 19n)] },
  ] satisfies { name: string; before: TxnCommand[] }[])('a lock that is gone without a commit record answers rolledBack and changes nothing: $name', async ({ before }) => {
    const h = new TxnHarness();
    await h.applyAll(...before);
    const dump = await h.dump();
    expect(await h.apply(commit(10n, 20n, ['k']))).toEqual({ kind: 'rolledBack' });
    expect(await h.dump()).toEqual(dump);
  });

  it('a rollback record is no commit record, even at commitTs', async () => {
    const h = new TxnHarness();
    await h.applyAll(rollback(10n, ['k']));
    expect(await h.apply(commit(10n, 10n, ['k']))).toEqual({ kind: 'rolledBack' });
  });

  it('a commit that finds one key rolled back commits none (a transaction is all or nothing)', async () => {
    // The primary a expired and was rolled back by a reader; the secondary b still holds its lock.
    const h = new TxnHarness();
    await h.applyAll(prewrite(ms(10), 'a', [['a', '1'], ['b', '2']], { ttlMs: 10 }), checkTxnStatus('a', ms(10), ms(1000)));
    const dump = await h.dump();
    expect(await h.apply(commit(ms(10), ms(1001), ['b', 'a']))).toEqual({ kind: 'rolledBack' });
    expect(await h.dump()).toEqual(dump);
    expect((await h.meta('b'))?.lock?.startTs).toBe(ms(10));
  });
});

describe('rollback', () => {
  it('drops the lock and its long value, and leaves a rollback record at startTs', async () => {
    const h = new TxnHarness();
    await h.applyAll(kvPut('a', 'old', 2n), prewrite(10n, 'a', [['a', '1'], ['b', long('b')]]));
    expect(await h.apply(rollback(10n, ['a', 'b']))).toEqual(ok());
    for (const k of ['a', 'b']) {
      const meta = await h.meta(k);
      expect(meta?.lock).toBeUndefined();
      expect(meta?.maxTs).toBe(10n);
      expect((await h.writes(k))[0]).toEqual([10n, { kind: 'rollback', startTs: 10n, value: undefined }]);
    }
    expect(await h.dataOf('b')).toEqual([]);
    expect(await h.value('a')).toBe('old');
    expect(await h.value('b')).toBeUndefined();
  });

  it('of a key never prewritten, still leaves the record', async () => {
    const h = new TxnHarness();
    expect(await h.apply(rollback(10n, ['k']))).toEqual(ok());
    expect(await h.meta('k')).toEqual({ maxTs: 10n, latest: undefined, lock: undefined });
    expect(await h.writes('k')).toEqual([[10n, { kind: 'rollback', startTs: 10n, value: undefined }]]);
  });

  it('is idempotent', async () => {
    const h = new TxnHarness();
    await h.applyAll(prewrite(10n, 'a', [['a', '1']]), rollback(10n, ['a']));
    const dump = await h.dump();
    expect(await h.apply(rollback(10n, ['a']))).toEqual(ok());
    expect(h.lastOps).toEqual([]);
    expect(await h.dump()).toEqual(dump);
  });

  it("leaves another transaction's lock in place", async () => {
    const h = new TxnHarness();
    await h.applyAll(prewrite(15n, 'k', [['k', 'theirs']]));
    expect(await h.apply(rollback(10n, ['k']))).toEqual(ok());
    const meta = await h.meta('k');
    expect(meta?.lock?.startTs).toBe(15n);
    expect(meta?.maxTs).toBe(10n);
    expect(await h.writes('k')).toEqual([[10n, { kind: 'rollback', startTs: 10n, value: undefined }]]);
  });

  it('keeps a version already at startTs, which fails a late prewrite as well', async () => {
    const h = new TxnHarness();
    await h.applyAll(kvPut('k', 'v', 19n));
    expect(await h.apply(rollback(20n, ['k']))).toEqual(ok());
    expect(await h.writes('k')).toEqual([[20n, expect.objectContaining({ kind: 'put', startTs: 19n })]]);
    expect(await h.value('k')).toBe('v');
    expect(await h.apply(prewrite(20n, 'k', [['k', 'late']]))).toEqual(conflict('k', 20n));
  });

  it.each([
    { name: 'every key committed', keys: ['a', 'b'], commitKeys: ['a', 'b'] },
    { name: 'the first key committed', keys: ['a', 'b'], commitKeys: ['a'] },
    // The primary a committed, so the transaction did; b's lock awaits roll-forward and must not be rolled back.
    { name: 'a later key committed, an earlier one still locked', keys: ['b', 'a'], commitKeys: ['a'] },
  ])('of a committed transaction answers committed and changes nothing: $name', async ({ keys, commitKeys }) => {
    const h = new TxnHarness();
    await h.applyAll(prewrite(10n, 'a', [['a', '1'], ['b', long('b')]]), commit(10n, 20n, commitKeys));
    const dump = await h.dump();
    expect(await h.apply(rollback(10n, keys))).toEqual({ kind: 'committed', commitTs: 20n });
    expect(await h.dump()).toEqual(dump);
  });

  it('after a commit, the committed value stays readable', async () => {
    const h = new TxnHarness();
    await h.applyAll(prewrite(10n, 'a', [['a', '1']]), commit(10n, 20n, ['a']));
    await h.apply(rollback(10n, ['a']));
    expect((await h.meta('a'))?.latest).toMatchObject({ commitTs: 20n, kind: 'put' });
    expect(await h.value('a')).toBe('1');
  });
});
