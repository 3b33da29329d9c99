/**
 * MVCC garbage collection below a safe point (gc.ts), case by case; the
 * randomized check that reads at or above the safe point do not change is in
 * history.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { TxnCommand } from '../index.js';
import { hasGarbage, LATEST, MvccTxn, READ_ONLY } from '../index.js';
import { bytes, commit, conflict, gc, kvDelete, kvPut, ok, prewrite, rollback, TxnHarness } from '../../../test/support/txn-harness.js';

const long = (c: string) => c.repeat(300);

/** The write records of k as `kind@commitTs`, newest first. */
async function writes(h: TxnHarness, k = 'k'): Promise<string[]> {
  return (await h.writes(k)).map(([ts, w]) => `${w.kind}@${ts}`);
}

describe('gc', () => {
  // k: put@11 (long), rollback@15, put@21, rollback@25, put@31 (long) unless the case says otherwise.
  const base: TxnCommand[] = [kvPut('k', long('a'), 10n), rollback(15n, ['k']), kvPut('k', 'b', 20n), rollback(25n, ['k']), kvPut('k', long('c'), 30n)];

  it.each([
    { name: 'below every record: nothing goes', safePoint: 5n, writes: ['put@31', 'rollback@25', 'put@21', 'rollback@15', 'put@11'], data: [30n, 10n] },
    { name: 'at the oldest version: it stays', safePoint: 11n, writes: ['put@31', 'rollback@25', 'put@21', 'rollback@15', 'put@11'], data: [30n, 10n] },
    { name: 'above a rollback record: it goes, the version below stays', safePoint: 16n, writes: ['put@31', 'rollback@25', 'put@21', 'put@11'], data: [30n, 10n] },
    { name: 'at a version: older ones and their data go', safePoint: 21n, writes: ['put@31', 'rollback@25', 'put@21'], data: [30n] },
    { name: 'between versions: the visible one stays, newer records stay', safePoint: 27n, writes: ['put@31', 'put@21'], data: [30n] },
    { name: 'above everything: only the newest version stays', safePoint: 100n, writes: ['put@31'], data: [30n] },
  ])('$name', async ({ safePoint, writes: want, data }) => {
    const h = new TxnHarness();
    await h.applyAll(...base);
    const before = await Promise.all([safePoint, 21n, 31n, LATEST].filter((ts) => ts >= safePoint).map((ts) => h.value('k', ts)));
    expect(await h.apply(gc(safePoint))).toEqual(ok());
    expect(await writes(h)).toEqual(want);
    expect(await h.dataOf('k')).toEqual(data);
    expect(await Promise.all([safePoint, 21n, 31n, LATEST].filter((ts) => ts >= safePoint).map((ts) => h.value('k', ts)))).toEqual(before);
    // The metadata keeps the newest version and maxTs.
    expect(await h.meta('k')).toMatchObject({ maxTs: 31n, latest: { commitTs: 31n } });
  });

  it.each([
    { name: 'a delete at the safe point goes with all it hides', before: [kvPut('k', long('a'), 10n), kvDelete('k', 20n)], safePoint: 21n, writes: [], latest: undefined },
    { name: 'a delete below the safe point goes, rollbacks above it too', before: [kvPut('k', 'a', 10n), kvDelete('k', 20n), rollback(30n, ['k'])], safePoint: 40n, writes: [], latest: undefined },
    { name: 'a delete above the safe point stays', before: [kvPut('k', 'a', 10n), kvDelete('k', 20n)], safePoint: 20n, writes: ['delete@21', 'put@11'], latest: 21n },
    { name: 'a delete below a newer put goes; the put stays', before: [kvPut('k', 'a', 10n), kvDelete('k', 20n), kvPut('k', 'c', 30n)], safePoint: 25n, writes: ['put@31'], latest: 31n },
  ])('$name', async ({ before, safePoint, writes: want, latest }) => {
    const h = new TxnHarness();
    await h.applyAll(...before);
    const atSafePoint = await h.value('k', safePoint);
    const atLatest = await h.value('k');
    await h.applyAll(gc(safePoint));
    expect(await writes(h)).toEqual(want);
    expect(await h.dataOf('k')).toEqual([]);
    const meta = await h.meta('k');
    expect(meta?.latest?.commitTs).toBe(latest);
    expect(await h.value('k', safePoint)).toBe(atSafePoint);
    expect(await h.value('k')).toBe(atLatest);
  });

  it('keeps maxTs, so a late prewrite whose rollback record was collected still fails', async () => {
    const h = new TxnHarness();
    await h.applyAll(kvPut('k', 'a', 10n), rollback(20n, ['k']), gc(30n));
    expect(await writes(h)).toEqual(['put@11']);
    expect(await h.apply(prewrite(20n, 'k', [['k', 'late']]))).toEqual(conflict('k', 20n));
  });

  it('leaves locks and their long values to lock resolution', async () => {
    const h = new TxnHarness();
    await h.applyAll(kvPut('k', 'a', 10n), kvPut('k', 'b', 20n), prewrite(30n, 'k', [['k', long('l')]]), gc(40n));
    expect((await h.meta('k'))?.lock?.startTs).toBe(30n);
    expect(await h.dataOf('k')).toEqual([30n]);
    expect(await writes(h)).toEqual(['put@21']);
    expect(await h.apply(commit(30n, 50n, ['k']))).toEqual(ok(50n));
    expect(await h.value('k', 49n)).toBe('b');
    expect(await h.value('k')).toBe(long('l'));
  });

  it('collects only the keys of its range', async () => {
    const h = new TxnHarness({ start: bytes('a'), end: bytes('b') });
    await h.applyAll(kvPut('a', '1', 10n), kvPut('a', '2', 20n), kvPut('b', '1', 10n), kvPut('b', '2', 20n), gc(30n));
    expect(await writes(h, 'a')).toEqual(['put@21']);
    expect(await writes(h, 'b')).toEqual(['put@21', 'put@11']);
  });

  it('a second run at the same safe point changes nothing', async () => {
    const h = new TxnHarness();
    await h.applyAll(kvPut('k', long('a'), 10n), rollback(15n, ['k']), kvPut('k', 'b', 20n), kvDelete('j', 5n), kvPut('j', 'x', 6n), kvDelete('j', 8n), gc(25n));
    const dump = await h.dump();
    expect(await h.apply(gc(25n))).toEqual(ok());
    expect(h.lastOps).toEqual([]);
    expect(await h.dump()).toEqual(dump);
  });

  it('hasGarbage is true exactly when a round would change something', async () => {
    const histories: TxnCommand[][] = [
      base,
      [kvPut('k', long('a'), 10n), kvDelete('k', 20n)],
      [kvPut('k', 'a', 10n), kvDelete('k', 20n), rollback(30n, ['k'])],
      [kvPut('k', 'a', 10n), kvDelete('k', 20n), kvPut('k', 'c', 30n), kvPut('j', 'x', 12n)],
    ];
    for (const history of histories) {
      for (let safePoint = 0n; safePoint <= 45n; safePoint += 3n) {
        const h = new TxnHarness();
        await h.applyAll(...history);
        const predicted = await hasGarbage(new MvccTxn(h.engine, READ_ONLY), safePoint, h.range);
        await h.apply(gc(safePoint));
        expect({ safePoint, predicted }).toEqual({ safePoint, predicted: h.lastOps.length > 0 });
      }
    }
  });
});
