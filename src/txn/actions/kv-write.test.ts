/**
 * kvWrite, the single-key `/kv` write (kv-write.ts): put, delete and cas
 * semantics, its commit timestamp, the tsTooOld and locked refusals, and long
 * values. Table-driven after TiKV's src/storage/txn/actions tests.
 */
import { describe, expect, it } from 'vitest';
import type { TxnCommand, TxnResult } from '../index.js';
import { INLINE_VALUE_BYTES } from '../mvcc/records.js';
import { casFailed, keyLock, kvCas, kvDelete, kvPut, ok, prewrite, rollback, TxnHarness } from '../../../test/support/txn-harness.js';

const absent = undefined;

describe('kvWrite: put, delete, cas', () => {
  // Every case starts from `before` (each answers ok), applies `cmd` and reads `k` at LATEST.
  const cases: { name: string; before: TxnCommand[]; cmd: TxnCommand; want: TxnResult; value: string | undefined; wrote: boolean }[] = [
    { name: 'put on an absent key', before: [], cmd: kvPut('k', 'v', 10n), want: ok(11n), value: 'v', wrote: true },
    { name: 'put over a value', before: [kvPut('k', 'old', 10n)], cmd: kvPut('k', 'new', 20n), want: ok(21n), value: 'new', wrote: true },
    { name: 'put over a delete', before: [kvPut('k', 'old', 10n), kvDelete('k', 20n)], cmd: kvPut('k', 'new', 30n), want: ok(31n), value: 'new', wrote: true },
    { name: 'put of an empty value', before: [], cmd: kvPut('k', '', 10n), want: ok(11n), value: '', wrote: true },
    { name: 'delete of a present key', before: [kvPut('k', 'v', 10n)], cmd: kvDelete('k', 20n), want: ok(21n, { deleted: true }), value: absent, wrote: true },
    { name: 'delete of an absent key finds nothing and writes nothing', before: [], cmd: kvDelete('k', 20n), want: ok(21n), value: absent, wrote: false },
    { name: 'delete of a deleted key', before: [kvPut('k', 'v', 10n), kvDelete('k', 20n)], cmd: kvDelete('k', 30n), want: ok(31n), value: absent, wrote: false },
    { name: 'cas with the current value', before: [kvPut('k', 'a', 10n)], cmd: kvCas('k', 'a', 'b', 20n), want: ok(21n, { current: 'a' }), value: 'b', wrote: true },
    { name: 'cas with another value fails, showing the current one', before: [kvPut('k', 'a', 10n)], cmd: kvCas('k', 'x', 'b', 20n), want: casFailed('a'), value: 'a', wrote: false },
    { name: 'cas expecting absent on an absent key', before: [], cmd: kvCas('k', absent, 'b', 20n), want: ok(21n), value: 'b', wrote: true },
    { name: 'cas expecting absent on a deleted key', before: [kvPut('k', 'a', 10n), kvDelete('k', 15n)], cmd: kvCas('k', absent, 'b', 20n), want: ok(21n), value: 'b', wrote: true },
    { name: 'cas expecting absent on a present key fails', before: [kvPut('k', 'a', 10n)], cmd: kvCas('k', absent, 'b', 20n), want: casFailed('a'), value: 'a', wrote: false },
    { name: 'cas expecting a value on an absent key fails', before: [], cmd: kvCas('k', 'a', 'b', 20n), want: casFailed(absent), value: absent, wrote: false },
    { name: 'cas expecting the empty value does not match absent', before: [], cmd: kvCas('k', '', 'b', 20n), want: casFailed(absent), value: absent, wrote: false },
    { name: 'cas that deletes (value undefined)', before: [kvPut('k', 'a', 10n)], cmd: kvCas('k', 'a', absent, 20n), want: ok(21n, { current: 'a' }), value: absent, wrote: true },
    { name: 'cas that deletes an absent key changes nothing', before: [], cmd: kvCas('k', absent, absent, 20n), want: ok(21n), value: absent, wrote: false },
  ];

  it.each(cases)('$name', async ({ before, cmd, want, value, wrote }) => {
    const h = new TxnHarness();
    await h.applyAll(...before);
    expect(await h.apply(cmd)).toEqual(want);
    expect(await h.value('k')).toBe(value);
    expect(h.lastOps.length > 0).toBe(wrote);
  });

  it('an overwritten value stays visible below the new commit timestamp', async () => {
    const h = new TxnHarness();
    await h.applyAll(kvPut('k', 'a', 10n), kvPut('k', 'b', 20n), kvDelete('k', 30n));
    expect([await h.value('k', 10n), await h.value('k', 11n), await h.value('k', 20n), await h.value('k', 21n), await h.value('k', 30n), await h.value('k', 31n)]).toEqual([
      absent,
      'a',
      'a',
      'b',
      'b',
      absent,
    ]);
    expect((await h.writes('k')).map(([ts, w]) => [ts, w.kind, w.startTs])).toEqual([
      [31n, 'delete', 30n],
      [21n, 'put', 20n],
      [11n, 'put', 10n],
    ]);
  });
});

describe('kvWrite: commit timestamp and tsTooOld', () => {
  it.each([
    { ts: 10n, floor: 0n, commitTs: 11n },
    { ts: 10n, floor: 9n, commitTs: 11n },
    { ts: 10n, floor: 10n, commitTs: 11n },
    { ts: 10n, floor: 25n, commitTs: 26n },
  ])('ts=$ts floor=$floor commits at $commitTs', async ({ ts, floor, commitTs }) => {
    const h = new TxnHarness();
    expect(await h.apply(kvPut('k', 'v', ts, floor))).toEqual(ok(commitTs));
    expect(await h.value('k', commitTs - 1n)).toBeUndefined();
    expect(await h.value('k', commitTs)).toBe('v');
    expect((await h.meta('k'))?.maxTs).toBe(commitTs);
  });

  // The key's maxTs is 21 (a put at 20) or 50 (a rollback record), and the write would commit at max(ts, floor) + 1.
  it.each([
    { name: 'commitTs below maxTs', before: [kvPut('k', 'a', 20n)], cmd: kvPut('k', 'b', 5n), want: { kind: 'tsTooOld', maxTs: 21n } },
    { name: 'commitTs equal to maxTs', before: [kvPut('k', 'a', 20n)], cmd: kvPut('k', 'b', 20n), want: { kind: 'tsTooOld', maxTs: 21n } },
    { name: 'commitTs just above maxTs', before: [kvPut('k', 'a', 20n)], cmd: kvPut('k', 'b', 21n), want: ok(22n) },
    { name: 'a floor lifts commitTs above maxTs', before: [kvPut('k', 'a', 20n)], cmd: kvPut('k', 'b', 5n, 30n), want: ok(31n) },
    { name: 'delete too old', before: [kvPut('k', 'a', 20n)], cmd: kvDelete('k', 20n), want: { kind: 'tsTooOld', maxTs: 21n } },
    { name: 'cas too old', before: [kvPut('k', 'a', 20n)], cmd: kvCas('k', 'a', 'b', 19n), want: { kind: 'tsTooOld', maxTs: 21n } },
    { name: 'a rollback record counts', before: [rollback(50n, ['k'])], cmd: kvPut('k', 'b', 49n), want: { kind: 'tsTooOld', maxTs: 50n } },
    { name: 'above a rollback record', before: [rollback(50n, ['k'])], cmd: kvPut('k', 'b', 50n), want: ok(51n) },
  ] satisfies { name: string; before: TxnCommand[]; cmd: TxnCommand; want: TxnResult }[])('$name', async ({ before, cmd, want }) => {
    const h = new TxnHarness();
    await h.applyAll(...before);
    const dump = await h.dump();
    expect(await h.apply(cmd)).toEqual(want);
    if (want.kind === 'tsTooOld') expect(await h.dump()).toEqual(dump);
  });
});

describe('kvWrite: a locked key is refused with the lock', () => {
  it.each([
    { name: 'put', cmd: kvPut('k', 'x', 30n) },
    { name: 'delete', cmd: kvDelete('k', 30n) },
    { name: 'cas', cmd: kvCas('k', 'a', 'x', 30n) },
    { name: 'put by a write older than the lock', cmd: kvPut('k', 'x', 5n, 100n) },
  ])('$name', async ({ cmd }) => {
    const h = new TxnHarness();
    await h.applyAll(kvPut('k', 'a', 5n), prewrite(20n, 'p', [['p', 'pv'], ['k', 'locked-value']]));
    const dump = await h.dump();
    expect(await h.apply(cmd)).toEqual({ kind: 'locked', locks: [keyLock('k', 'p', 20n, 'locked-value')] });
    expect(await h.dump()).toEqual(dump);
  });
});

describe('kvWrite: long values', () => {
  const long = (n: number, c = 'x') => c.repeat(n);

  it.each([
    { size: INLINE_VALUE_BYTES, inData: false },
    { size: INLINE_VALUE_BYTES + 1, inData: true },
    { size: 4096, inData: true },
  ])('a value of $size bytes: in the data column $inData, and reads back', async ({ size, inData }) => {
    const h = new TxnHarness();
    expect(await h.apply(kvPut('k', long(size), 10n))).toEqual(ok(11n));
    expect(await h.dataOf('k')).toEqual(inData ? [10n] : []);
    const [[, rec]] = await h.writes('k');
    expect(rec.value === undefined).toBe(inData);
    // The metadata's copy of the newest version points at the write record: never a second copy of the value.
    expect((await h.meta('k'))?.latest?.value).toBeUndefined();
    expect(await h.value('k')).toBe(long(size));
    expect((await h.scan('', '')).items.map((i) => i.value.length)).toEqual([size]);
  });

  it('versions of long values keep their own data, and cas compares long values', async () => {
    const h = new TxnHarness();
    await h.applyAll(kvPut('k', long(300, 'a'), 10n), kvPut('k', long(300, 'b'), 20n));
    expect(await h.dataOf('k')).toEqual([20n, 10n]);
    expect(await h.value('k', 15n)).toBe(long(300, 'a'));
    expect(await h.apply(kvCas('k', long(300, 'a'), 'c', 30n))).toEqual(casFailed(long(300, 'b')));
    expect(await h.apply(kvCas('k', long(300, 'b'), 'c', 30n))).toEqual(ok(31n, { current: long(300, 'b') }));
    expect(await h.value('k')).toBe('c');
    expect(await h.value('k', 30n)).toBe(long(300, 'b'));
  });
});
